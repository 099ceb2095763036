import { connect, connectProbe } from '@zap/sql/db'
import { watchDatabase } from '@zap/lib/health'
import { createHooks } from './app.ts'
import { hooksLimitsFrom, hooksListenOptions, readHooksEnv } from './env.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { listenOrExplain } from '@zap/lib/ports'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { tracingSettingsFrom } from '@zap/lib/env'
import { startTracing } from '@zap/lib/trace'
import { exposeMetricsOf, serveMetrics } from '@zap/lib/metrics'

const env = readHooksEnv()
const log = createLogger('hooks', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
// Before anything connects: a dependency that is away at start is waited for, never a crash.
containDependencyErrors(log)
const stopTracing = await startTracing('hooks', tracingSettingsFrom(env))
// A statement of a webhook answered 503 rolls back when it finishes; this bounds how long it may hold its connection.
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE, statementTimeoutMs: 2 * env.INGEST_TIMEOUT_MS })
const probeSql = connectProbe(env.DATABASE_URL)
const database = watchDatabase(probeSql, log)
const app = listenOrExplain(() => createHooks({ sql, database, log, ...hooksLimitsFrom(env) }).listen(hooksListenOptions(env, env.HOOKS_PORT)), env.HOOKS_PORT, 'HOOKS_PORT', log)

exposeMetricsOf('hooks')
// An operator's port, never the public one webhooks arrive on.
const metricsServer = await serveMetrics(env.METRICS_PORT, () => connectProbe(env.DATABASE_URL), log)

log.info({ port: app.server?.port, metricsPort: env.METRICS_PORT }, `zap hooks listening on http://localhost:${app.server?.port}`)

stopOnSignals(async () => {
  database.stop()
  await metricsServer.stop()
  await app.stop()
  // Nothing uses the pools once the server has answered its last request: after a database outage
  // postgres.js may still count a connection as open, and end() would wait out its whole timeout.
  await Promise.all([sql.end({ timeout: 0.5 }), probeSql.end({ timeout: 0.5 })])
  await stopTracing()
}, log)
