import { connect, connectProbe } from '@zap/sql/db'
import { consumerLagReader, createKafka, createStepConsumer, ensureTopic } from '@zap/lib/kafka'
import { consumeSteps } from './consumer.ts'
import { alertOptionsFrom, executeOptionsFrom, readWorkerEnv } from './env.ts'
import { startAlerts } from './alerts.ts'
import { createStepHandler } from './handler.ts'
import { stopOnSignals } from '@zap/lib/shutdown'
import { containDependencyErrors } from '@zap/lib/uncaught'
import { createLogger, wantsPrettyLogs } from '@zap/lib/log'
import { tracingSettingsFrom } from '@zap/lib/env'
import { startTracing } from '@zap/lib/trace'
import { exposeMetricsOf, serveMetrics, watchConsumerLag } from '@zap/lib/metrics'

const env = readWorkerEnv()
const log = createLogger('worker', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
const stopTracing = await startTracing('worker', tracingSettingsFrom(env))
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE })
const kafka = createKafka(env.KAFKA_BROKERS, 'zap-worker', log)
await ensureTopic(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS)
const consumer = createStepConsumer(kafka, env.KAFKA_GROUP, env.KAFKA_SESSION_TIMEOUT_MS)
await consumer.connect()
consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
  const partitions = Object.values(payload.memberAssignment).flat().length
  log.info({ group: payload.groupId, partitions }, `zap worker ready: joined ${payload.groupId} with ${partitions} partitions`)
})

const executeOptions = executeOptionsFrom(env)
const handler = createStepHandler(sql, executeOptions, log)
const alerts = startAlerts(alertOptionsFrom(sql, executeOptions, log))
const consuming = await consumeSteps({ consumer, topic: env.KAFKA_TOPIC, concurrency: env.WORKER_CONCURRENCY, stepTimeoutMs: env.STEP_TIMEOUT_MS, handler, log })
const lag = consumerLagReader(kafka, env.KAFKA_TOPIC, env.KAFKA_GROUP)
exposeMetricsOf('worker')
watchConsumerLag(lag.read, log)
const metricsServer = await serveMetrics(env.METRICS_PORT, () => connectProbe(env.DATABASE_URL), log)

containDependencyErrors(log)
stopOnSignals(async () => {
  await metricsServer.stop()
  await Promise.all([consuming.stop(), alerts.stop()])
  await lag.close()
  await sql.end({ timeout: 5 })
  await stopTracing()
}, log)
