import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs'
import { heartbeatIntervalMs } from '@zap/lib/kafka'
import { trackOutage } from '@zap/lib/outage'
import pLimit from 'p-limit'
import * as v from 'valibot'
import { stepMessage, type StepMessage } from '@zap/lib/messages'
import type { Logger } from '@zap/lib/log'
import type { StepHandler } from './handler.ts'

const disconnectTimeoutMs = 10_000

export type ConsumeOptions = { consumer: Consumer; topic: string; concurrency: number; handler: StepHandler; log: Logger }

/**
 * Runs every step message of each fetched batch concurrently (bounded), heartbeating meanwhile;
 * offsets are committed only after the batch's results are recorded, or, for a step that is still
 * running after a moment, once it holds a lease in the outbox: a slow target never holds up a partition.
 */
export async function consumeSteps({ consumer, topic, concurrency, handler, log }: ConsumeOptions) {
  const limit = pLimit(concurrency)

  async function eachBatch({ batch, heartbeat }: EachBatchPayload) {
    const heartbeats = setInterval(() => heartbeat().catch(() => {}), heartbeatIntervalMs)
    try {
      const messages = batch.messages.flatMap((message) => parseMessage(message, log))
      await Promise.all(messages.map((message) => limit(() => handledOrLeased(handler, message))))
    } finally {
      clearInterval(heartbeats)
    }
  }

  // kafkajs restarts a crashed consumer itself, for as long as Kafka stays away; when it gives up
  // (an error it deems permanent), nothing consumes any more: exit for the supervisor to restart.
  const outage = trackOutage(log, 'Kafka')
  consumer.on(consumer.events.GROUP_JOIN, () => outage.up())
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return outage.down(payload.error)
    log.fatal({ err: payload.error }, 'the Kafka consumer stopped for good; exiting for a restart')
    log.flush()
    process.exit(1)
  })
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachBatch, partitionsConsumedConcurrently: 6 })
  return {
    async stop() {
      handler.stop()
      // kafkajs can hang leaving a group mid-rebalance; uncommitted work is redelivered anyway.
      await Promise.race([consumer.disconnect(), Bun.sleep(disconnectTimeoutMs)])
    },
  }
}

const handledOrLeased = (handler: StepHandler, message: StepMessage) =>
  new Promise<unknown>((resolve, reject) => {
    handler.handle(message, () => resolve('leased')).then(resolve, reject)
  })

function parseMessage({ value, headers }: KafkaMessage, log: Logger): StepMessage[] {
  try {
    const message: StepMessage = v.parse(stepMessage, JSON.parse(value?.toString() ?? ''))
    // The publish span's context, sent only while tracing is on.
    if (headers?.traceparent) message.traceParent = headers.traceparent.toString()
    return [message]
  } catch {
    log.warn({ value: value?.toString().slice(0, 200) }, 'ignoring a malformed message')
    return []
  }
}
