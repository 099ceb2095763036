import { resolve } from 'node:path'
import { connect, connectProbe } from '@zap/sql/db'
import { watchDatabase } from '@zap/lib/health'
import { migrate } from '@zap/sql/migrate'
import { createApi } from '@zap/api/app'
import { authRateLimitsFrom } from '@zap/api/env'
import { createHooks } from '@zap/hooks/app'
import { hooksLimitsFrom, hooksListenOptions } from '@zap/hooks/env'
import { createStepHandler } from '@zap/worker/handler'
import { alertOptionsFrom, executeOptionsFrom } from '@zap/worker/env'
import { startAlerts } from '@zap/worker/alerts'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { exposeMetricsOf } from '@zap/lib/metrics'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import type { TargetScope } from '@zap/worker/targets'
import { startEmbeddedPostgres } from './embedded-postgres.ts'
import { readStandaloneEnv } from './env.ts'
import { lockDataDir } from './instance-lock.ts'
import { startMailCatcher } from './mail-catcher.ts'
import { startPipeline } from './pipeline.ts'
import { isPortFree } from './ports.ts'
import { jwtSecret } from './secret.ts'

/** The whole of zap in one process: PostgreSQL (embedded unless DATABASE_URL), api, hooks, relay and worker. */
const env = readStandaloneEnv()
const pretty = wantsPrettyLogs()
const log = createLogger('zap', { level: env.LOG_LEVEL, pretty })
const dataDir = resolve(env.ZAP_DATA_DIR)
const targetsLine: Record<TargetScope, string> = {
  loopback: "http steps may call this machine's loopback services (localhost); ALLOW_PRIVATE_TARGETS=false turns it off",
  public: 'http steps may call public addresses only (ALLOW_PRIVATE_TARGETS=false)',
  private: 'http steps may call any address, private networks included (ALLOW_PRIVATE_TARGETS=true)',
}

// What has been started, stopped in reverse order on SIGINT/SIGTERM or when start-up fails.
const started: (() => unknown)[] = []
const stopAll = async () => {
  for (const stop of started.splice(0).reverse()) await stop()
}
containDependencyErrors(log)
stopOnSignals(stopAll, log)
exposeMetricsOf('api', 'hooks', 'processor', 'worker')

try {
  started.push(lockDataDir(dataDir, env.API_PORT).release)
  await requireFreePort('API_PORT', env.API_PORT)
  await requireFreePort('HOOKS_PORT', env.HOOKS_PORT)
  const postgres = env.DATABASE_URL ? null : await startEmbeddedPostgres(resolve(dataDir, 'postgres'))
  if (postgres) started.push(postgres.stop)
  const sql = connect(env.DATABASE_URL ?? postgres!.url, { max: env.DATABASE_POOL_SIZE })
  started.push(() => sql.end({ timeout: 5 }))
  await migrate(sql)
  const probeSql = connectProbe(env.DATABASE_URL ?? postgres!.url)
  started.push(() => probeSql.end({ timeout: 1 }))
  const database = watchDatabase(probeSql, log)
  started.push(database.stop)

  const devScope: TargetScope = env.ALLOW_PRIVATE_TARGETS === false ? 'public' : 'loopback'
  const mailCatcher = env.SMTP_URL ? null : await startMailCatcher(log)
  if (mailCatcher) started.push(mailCatcher.stop)
  const smtpUrl = env.SMTP_URL ?? mailCatcher!.url

  const apiApp = createApi({
    sql,
    database,
    databaseTimeoutMs: env.API_DATABASE_TIMEOUT_MS,
    auth: { secret: env.JWT_SECRET ?? (await jwtSecret(dataDir)), ttlSeconds: env.JWT_TTL_SECONDS },
    hooksUrl: env.PUBLIC_HOOKS_URL,
    smtpConfigured: true,
    targetScope: env.ALLOW_PRIVATE_TARGETS ? 'private' : devScope,
    log,
    bodyLimits: { maxBytes: env.API_MAX_BODY_BYTES, maxJsonDepth: env.API_MAX_JSON_DEPTH },
    rateLimits: authRateLimitsFrom(env),
    scheduleLimits: { minIntervalSeconds: env.SCHEDULE_MIN_INTERVAL_SECONDS },
    // A person watching the terminal sees one line per webhook and per step; the CLI's requests and polls only at LOG_LEVEL=debug.
    requestLogLevel: pretty ? 'debug' : 'info',
  })
  const api = listen('API_PORT', env.API_PORT, () => apiApp.listen({ port: env.API_PORT, reusePort: false }))
  started.push(() => api.stop())
  const executeOptions = executeOptionsFrom({ ...env, ALLOW_PRIVATE_TARGETS: env.ALLOW_PRIVATE_TARGETS ?? false, SMTP_URL: smtpUrl }, devScope)
  const pipeline = await startPipeline(sql, env, createStepHandler(sql, executeOptions, log), log)
  started.push(pipeline.stop)
  started.push(startAlerts(alertOptionsFrom(sql, executeOptions, log)).stop)
  const hooksApp = createHooks({ sql, database, log, ...hooksLimitsFrom(env) })
  const hooks = listen('HOOKS_PORT', env.HOOKS_PORT, () => hooksApp.listen(hooksListenOptions(env, env.HOOKS_PORT)))
  started.push(() => hooks.stop())

  console.log(`zap is ready (pid ${process.pid})
  API        http://localhost:${env.API_PORT}/api/v1  (docs: http://localhost:${env.API_PORT}/docs)
  Webhooks   ${env.PUBLIC_HOOKS_URL}/hooks/<zapId>
  Database   ${postgres ? postgres.placement : 'DATABASE_URL'}
  Transport  ${pipeline.transport}
  Targets    ${targetsLine[executeOptions.targetScope]}
  Emails     ${mailCatcher ? 'caught here, each logged as "email caught" (set SMTP_URL to send them)' : `sent through SMTP_URL (${new URL(smtpUrl).host})`}
Next: ${env.ZAP_INVOKED_AS} signup${env.API_PORT === 3001 ? '' : ` --api http://localhost:${env.API_PORT}`}`)
} catch (error) {
  console.error(`zap could not start: ${error instanceof Error ? error.message : String(error)}`)
  await stopAll().catch(() => {})
  process.exit(1)
}

async function requireFreePort(variable: string, port: number) {
  if (!(await isPortFree(port))) throw portInUse(variable, port)
}

// The port can still be taken between the check and the listen.
function listen<Server>(variable: string, port: number, start: () => Server) {
  try {
    return start()
  } catch (error) {
    if ((error as { code?: string }).code === 'EADDRINUSE' || /port \d+ in use/i.test(String(error))) throw portInUse(variable, port)
    throw error
  }
}

function portInUse(variable: string, port: number) {
  return new Error(`port ${port} is already in use; stop what listens there or set ${variable} to a free port`)
}
