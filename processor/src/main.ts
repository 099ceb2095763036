import { connect, connectProbe } from '@zap/sql/db'
import { createKafka, createKafkaTransport } from '@zap/lib/kafka'
import { readProcessorEnv, retentionOptionsFrom, schedulerOptionsFrom } from './env.ts'
import { startScheduler } from './scheduler.ts'
import { startRetention } from './retention.ts'
import { startRelay } from './relay.ts'
import { startReconciler } from './reconciler.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { tracingSettingsFrom } from '@zap/lib/env'
import { startTracing } from '@zap/lib/trace'
import { exposeMetricsOf, serveMetrics, watchOutbox } from '@zap/lib/metrics'
import { outboxNotifier, outboxStats } from '@zap/sql/outbox'

const env = readProcessorEnv()
const log = createLogger('processor', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
// Before anything connects: a dependency that is away at start is waited for, never a crash.
containDependencyErrors(log)
const stopTracing = await startTracing('processor', tracingSettingsFrom(env))
const sql = connect(env.DATABASE_URL, { max: 3 })
const kafka = createKafka(env.KAFKA_BROKERS, 'zap-processor', log)
const transport = createKafkaTransport(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS, log)
const relay = startRelay({ sql, transport, batchSize: env.OUTBOX_BATCH_SIZE, pollMs: env.OUTBOX_POLL_MS, log })
const retention = startRetention({ sql, log, ...retentionOptionsFrom(env) })
const reconciler = startReconciler({ sql, quietSeconds: env.RECONCILE_AFTER_SECONDS, log })
const scheduler = startScheduler({ sql, log, wakeRelays: outboxNotifier(sql), ...schedulerOptionsFrom(env) })
exposeMetricsOf('processor')
watchOutbox(() => outboxStats(sql), log)
const metricsServer = await serveMetrics(env.METRICS_PORT, () => connectProbe(env.DATABASE_URL), log, () => transport.problem() ?? relay.problem() ?? reconciler.problem() ?? scheduler.problem())
log.info({ topic: env.KAFKA_TOPIC, metricsPort: env.METRICS_PORT }, `zap processor started: outbox -> ${env.KAFKA_TOPIC} on ${env.KAFKA_BROKERS}`)
void announceReady()

stopOnSignals(async () => {
  await metricsServer.stop()
  await Promise.all([relay.stop(), retention.stop(), reconciler.stop(), scheduler.stop()])
  await transport.disconnect()
  // Nothing uses the pool once the relay and the prune have stopped. After the fault suite's outages
  // postgres.js still counted a connection as open while every session on the server was idle, and
  // end() waited out its whole timeout: what is left is closed after half a second.
  await sql.end({ timeout: 0.5 })
  await stopTracing()
}, log)

/** One line once the producer is connected and the relay has made its first pass through the database. */
async function announceReady() {
  while ((transport.problem() ?? relay.problem()) !== null) await Bun.sleep(100)
  log.info({ topic: env.KAFKA_TOPIC }, `zap processor ready: relaying the outbox to ${env.KAFKA_TOPIC}`)
}
