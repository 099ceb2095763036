import type { Sql } from '@zap/sql/db'
import { requeueOrphanedRuns } from '@zap/sql/recovery'
import { consumerLagReader, createKafka, createKafkaTransport, createStepConsumer, waitForTopic } from '@zap/lib/kafka'
import { watchConsumerLag, watchOutbox } from '@zap/lib/metrics'
import { outboxNotifier, outboxStats } from '@zap/sql/outbox'
import { startRelay } from '@zap/processor/relay'
import { startRetention } from '@zap/processor/retention'
import { startReconciler } from '@zap/processor/reconciler'
import { retentionOptionsFrom, schedulerOptionsFrom } from '@zap/processor/env'
import { startScheduler } from '@zap/processor/scheduler'
import { consumeSteps } from '@zap/worker/consumer'
import type { StepHandler } from '@zap/worker/handler'
import { inProcessTransport } from '@zap/worker/in-process'
import type { Logger } from '@zap/lib/log'
import type { StandaloneEnv } from './env.ts'

/** The outbox relay, the retention job and the step executor in this process, handing work over Kafka or directly. */
export async function startPipeline(sql: Sql, env: StandaloneEnv, handler: StepHandler, log: Logger) {
  const relayOptions = { sql, batchSize: env.OUTBOX_BATCH_SIZE, pollMs: env.OUTBOX_POLL_MS, log }
  watchOutbox(() => outboxStats(sql), log)
  const retention = startRetention({ sql, log, ...retentionOptionsFrom(env) })
  const scheduler = startScheduler({ sql, log, wakeRelays: outboxNotifier(sql), ...schedulerOptionsFrom(env) })
  if (!env.KAFKA_BROKERS) {
    const requeued = await requeueOrphanedRuns(sql)
    if (requeued > 0) log.info({ requeued }, `requeued ${requeued} unfinished runs`)
    const transport = inProcessTransport(handler, env.WORKER_CONCURRENCY)
    const relay = startRelay({ ...relayOptions, transport })
    return {
      transport: 'in-process',
      stop: async () => {
        await Promise.all([relay.stop(), retention.stop(), scheduler.stop()])
        await transport.stop()
      },
    }
  }
  const kafka = createKafka(env.KAFKA_BROKERS, 'zap', log)
  await waitForTopic(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS, log)
  const transport = createKafkaTransport(kafka, env.KAFKA_TOPIC, env.KAFKA_PARTITIONS, log)
  const relay = startRelay({ ...relayOptions, transport })
  const reconciler = startReconciler({ sql, quietSeconds: env.RECONCILE_AFTER_SECONDS, log })
  const consumer = createStepConsumer(kafka, env.KAFKA_GROUP, env.KAFKA_SESSION_TIMEOUT_MS)
  await consumer.connect()
  const consuming = await consumeSteps({ consumer, topic: env.KAFKA_TOPIC, concurrency: env.WORKER_CONCURRENCY, stepTimeoutMs: env.STEP_TIMEOUT_MS, handler, log })
  const lag = consumerLagReader(kafka, env.KAFKA_TOPIC, env.KAFKA_GROUP)
  watchConsumerLag(lag.read, log)
  return {
    transport: `Kafka ${env.KAFKA_BROKERS} (topic ${env.KAFKA_TOPIC})`,
    stop: async () => {
      await Promise.all([relay.stop(), retention.stop(), reconciler.stop(), scheduler.stop()])
      await consuming.stop()
      await lag.close()
      await transport.disconnect()
    },
  }
}
