import { connect, connectProbe } from '@zap/sql/db'
import { consumerLagReader, createKafka, createStepConsumer, waitForTopic } from '@zap/lib/kafka'
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
import { trackOutage } from '@zap/lib/outage'

const env = readWorkerEnv()
const log = createLogger('worker', { level: env.LOG_LEVEL, pretty: wantsPrettyLogs() })
// Before anything connects: a dependency that is away at start is waited for, never a crash.
containDependencyErrors(log)
const stopTracing = await startTracing('worker', tracingSettingsFrom(env))
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE })
const kafka = createKafka(env.KAFKA_BROKERS, 'zap-worker', log)
const executeOptions = executeOptionsFrom(env)
const handler = createStepHandler(sql, executeOptions, log)
const alerts = startAlerts(alertOptionsFrom(sql, executeOptions, log))
let consuming: Awaited<ReturnType<typeof consumeSteps>> | null = null
let stopping = false
const metricsServer = await serveMetrics(env.METRICS_PORT, () => connectProbe(env.DATABASE_URL), log, () => (consuming ? null : 'the worker is waiting for Kafka'))
const lag = consumerLagReader(kafka, env.KAFKA_TOPIC, env.KAFKA_GROUP)
exposeMetricsOf('worker')
watchConsumerLag(lag.read, log)

stopOnSignals(async () => {
  stopping = true
  await metricsServer.stop()
  await Promise.all([consuming?.stop(), alerts.stop()])
  await lag.close()
  // Every step has recorded its result by now; see the processor's stop for why the wait is short.
  await sql.end({ timeout: 0.5 })
  await stopTracing()
}, log)

log.info({ brokers: env.KAFKA_BROKERS, topic: env.KAFKA_TOPIC }, `zap worker started: joining ${env.KAFKA_GROUP} on ${env.KAFKA_BROKERS}`)
consuming = await consumeOnceKafkaAnswers()

/**
 * Joins the group as soon as Kafka answers and the topic exists, however long that takes: a worker
 * started before Kafka waits for it (saying so) instead of exiting. Each try has a consumer of its own.
 */
async function consumeOnceKafkaAnswers() {
  const outage = trackOutage(log, 'Kafka')
  for (let failures = 0; !stopping; failures++) {
    if (!(await waitForTopic(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS, log, () => stopping))) break
    const consumer = createStepConsumer(kafka, env.KAFKA_GROUP, env.KAFKA_SESSION_TIMEOUT_MS)
    consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
      const partitions = Object.values(payload.memberAssignment).flat().length
      log.info({ group: payload.groupId, partitions }, `zap worker ready: joined ${payload.groupId} with ${partitions} partitions`)
    })
    try {
      await consumer.connect()
      const started = await consumeSteps({ consumer, topic: env.KAFKA_TOPIC, concurrency: env.WORKER_CONCURRENCY, stepTimeoutMs: env.STEP_TIMEOUT_MS, handler, log })
      outage.up()
      return started
    } catch (error) {
      outage.down(error)
      await consumer.disconnect().catch(() => {})
      await Bun.sleep(Math.min(5_000, 250 * 2 ** failures))
    }
  }
  return null
}
