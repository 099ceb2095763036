import { connect, connectProbe } from '@zap/sql/db'
import { watchDatabase } from '@zap/lib/health'
import { createApi } from './app.ts'
import { authRateLimitsFrom, readApiEnv } from './env.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { listenOrExplain } from '@zap/lib/ports'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { exposeMetricsOf } from '@zap/lib/metrics'

const env = readApiEnv()
const log = createLogger('api', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
// Before anything connects: a dependency that is away at start is waited for, never a crash.
containDependencyErrors(log)
if (!env.JWT_SECRET) log.warn('JWT_SECRET is not set: using a random secret, so tokens stop working when the API restarts')
exposeMetricsOf('api')
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE })
const probeSql = connectProbe(env.DATABASE_URL)
const database = watchDatabase(probeSql, log)
const app = listenOrExplain(() => createApi({
  sql,
  database,
  databaseTimeoutMs: env.API_DATABASE_TIMEOUT_MS,
  auth: { secret: env.JWT_SECRET ?? crypto.getRandomValues(new Uint8Array(32)).toHex(), ttlSeconds: env.JWT_TTL_SECONDS },
  hooksUrl: env.PUBLIC_HOOKS_URL,
  smtpConfigured: env.SMTP_URL !== undefined,
  targetScope: env.ALLOW_PRIVATE_TARGETS ? 'private' : 'public',
  log,
  bodyLimits: { maxBytes: env.API_MAX_BODY_BYTES, maxJsonDepth: env.API_MAX_JSON_DEPTH },
  rateLimits: authRateLimitsFrom(env),
  scheduleLimits: { minIntervalSeconds: env.SCHEDULE_MIN_INTERVAL_SECONDS },
}).listen({ port: env.API_PORT, reusePort: false }), env.API_PORT, 'API_PORT', log)

log.info({ port: app.server?.port }, `zap api listening on http://localhost:${app.server?.port}`)

stopOnSignals(async () => {
  database.stop()
  await app.stop()
  // Nothing uses the pools once the server has answered its last request: after a database outage
  // postgres.js may still count a connection as open, and end() would wait out its whole timeout.
  await Promise.all([sql.end({ timeout: 0.5 }), probeSql.end({ timeout: 0.5 })])
}, log)
