import { connect } from '@zap/sql/db'
import { createHooks } from './app.ts'
import { readHooksEnv } from './env.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'

const env = readHooksEnv()
const log = createLogger('hooks', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE })
const app = createHooks({ sql, maxBodyBytes: env.MAX_BODY_BYTES, maxJsonDepth: env.MAX_JSON_DEPTH, webhookRateLimit: env.WEBHOOK_RATE_LIMIT, log }).listen({ port: env.HOOKS_PORT, reusePort: false })

log.info({ port: app.server?.port }, `zap hooks listening on http://localhost:${app.server?.port}`)

containDependencyErrors(log)
stopOnSignals(async () => {
  await app.stop()
  await sql.end({ timeout: 5 })
}, log)
