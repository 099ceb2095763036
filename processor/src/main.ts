import { connect, connectProbe } from '@zap/sql/db'
import { connectKafkaTransport, createKafka, ensureTopic } from '@zap/lib/kafka'
import { readProcessorEnv, retentionOptionsFrom, schedulerOptionsFrom } from './env.ts'
import { startScheduler } from './scheduler.ts'
import { startRetention } from './retention.ts'
import { startRelay } from './relay.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { tracingSettingsFrom } from '@zap/lib/env'
import { startTracing } from '@zap/lib/trace'
import { exposeMetricsOf, serveMetrics, watchOutbox } from '@zap/lib/metrics'
import { outboxNotifier, outboxStats } from '@zap/sql/outbox'

const env = readProcessorEnv()
const log = createLogger('processor', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
const stopTracing = await startTracing('processor', tracingSettingsFrom(env))
const sql = connect(env.DATABASE_URL, { max: 3 })
const kafka = createKafka(env.KAFKA_BROKERS, 'zap-processor', log)
await ensureTopic(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS)
const transport = await connectKafkaTransport(kafka, env.KAFKA_TOPIC)

const relay = startRelay({ sql, transport, batchSize: env.OUTBOX_BATCH_SIZE, pollMs: env.OUTBOX_POLL_MS, log })
const retention = startRetention({ sql, log, ...retentionOptionsFrom(env) })
const scheduler = startScheduler({ sql, log, wakeRelays: outboxNotifier(sql), ...schedulerOptionsFrom(env) })
exposeMetricsOf('processor')
watchOutbox(() => outboxStats(sql), log)
const metricsServer = await serveMetrics(env.METRICS_PORT, () => connectProbe(env.DATABASE_URL), log)
log.info({ topic: env.KAFKA_TOPIC, metricsPort: env.METRICS_PORT }, `zap processor ready: outbox -> ${env.KAFKA_TOPIC} on ${env.KAFKA_BROKERS}`)

containDependencyErrors(log)
stopOnSignals(async () => {
  await metricsServer.stop()
  await Promise.all([relay.stop(), retention.stop(), scheduler.stop()])
  await transport.disconnect()
  // Nothing uses the pool once the relay and the prune have stopped. After the fault suite's outages
  // postgres.js still counted a connection as open while every session on the server was idle, and
  // end() waited out its whole timeout: what is left is closed after half a second.
  await sql.end({ timeout: 0.5 })
  await stopTracing()
}, log)
