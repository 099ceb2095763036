import { resolve } from 'node:path'
import { connect } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { startEmbeddedPostgres } from './embedded-postgres.ts'
import { createApi } from '@zap/api/app'
import { authRateLimitsFrom } from '@zap/api/env'
import { createHooks } from '@zap/hooks/app'
import { createStepHandler } from '@zap/worker/handler'
import { executeOptionsFrom } from '@zap/worker/env'
import { readStandaloneEnv } from './env.ts'
import { startPipeline } from './pipeline.ts'
import { jwtSecret } from './secret.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'

/** The whole of zap in one process: PostgreSQL (embedded unless DATABASE_URL), api, hooks, relay and worker. */
const env = readStandaloneEnv()
const log = createLogger('zap', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
const dataDir = resolve(env.ZAP_DATA_DIR)
const postgres = env.DATABASE_URL ? null : await startEmbeddedPostgres(resolve(dataDir, 'postgres'))
const sql = connect(env.DATABASE_URL ?? postgres!.url, { max: env.DATABASE_POOL_SIZE })
await migrate(sql)

const api = createApi({
  sql,
  auth: { secret: env.JWT_SECRET ?? (await jwtSecret(dataDir)), ttlSeconds: env.JWT_TTL_SECONDS },
  hooksUrl: env.PUBLIC_HOOKS_URL,
  smtpConfigured: env.SMTP_URL !== undefined,
  log,
  bodyLimits: { maxBytes: env.API_MAX_BODY_BYTES, maxJsonDepth: env.API_MAX_JSON_DEPTH },
  rateLimits: authRateLimitsFrom(env),
}).listen({ port: env.API_PORT, maxRequestBodySize: env.API_MAX_BODY_BYTES + 1, reusePort: false })
const hooks = createHooks({ sql, maxBodyBytes: env.MAX_BODY_BYTES, maxJsonDepth: env.MAX_JSON_DEPTH, webhookRateLimit: env.WEBHOOK_RATE_LIMIT, log }).listen({ port: env.HOOKS_PORT, maxRequestBodySize: env.MAX_BODY_BYTES + 1, reusePort: false })
const handler = createStepHandler(sql, executeOptionsFrom(env), log)
const pipeline = await startPipeline(sql, env, handler, log)

console.log(`zap is ready
  API        http://localhost:${env.API_PORT}/api/v1  (docs: http://localhost:${env.API_PORT}/docs)
  Webhooks   ${env.PUBLIC_HOOKS_URL}/hooks/<zapId>
  Database   ${postgres ? `embedded PostgreSQL, data in ${resolve(dataDir, 'postgres')}` : 'DATABASE_URL'}
  Transport  ${pipeline.transport}
Next: bun zap signup${env.API_PORT === 3001 ? "" : ` --api http://localhost:${env.API_PORT}`}`)

containDependencyErrors(log)
stopOnSignals(async () => {
  await hooks.stop()
  await pipeline.stop()
  await api.stop()
  await sql.end({ timeout: 5 })
  await postgres?.stop()
}, log)
