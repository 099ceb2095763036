import type { Consumer, EachBatchPayload, KafkaMessage } from 'kafkajs'
import { heartbeatIntervalMs } from '@zap/lib/kafka'
import { trackOutage } from '@zap/lib/outage'
import pLimit from 'p-limit'
import * as v from 'valibot'
import { stepMessage, type StepMessage } from '@zap/lib/messages'
import type { Logger } from '@zap/lib/log'
import type { StepHandler } from './handler.ts'
import { createOffsetTracker, type OffsetTracker } from './offsets.ts'

const disconnectTimeoutMs = 10_000
// After a step's own timeout, the time its result has to be recorded before a stopping worker gives up on it.
const recordGraceMs = 5_000

/** `stepTimeoutMs`: the longest a started step may take, which bounds how long stopping waits for the steps in hand. */
export type ConsumeOptions = { consumer: Consumer; topic: string; concurrency: number; stepTimeoutMs: number; handler: StepHandler; log: Logger }

/**
 * Hands each fetched message to a bounded pool and returns to kafkajs at once, so the next fetch
 * goes out while the steps run: kafkajs fetches again only after every batch of a fetch returned, and
 * a message would otherwise wait for the slowest step of the fetch before it. At most twice
 * `concurrency` messages are held; past that a batch waits, which holds the fetches back.
 * A partition's offset is committed up to its first message not yet handled (recorded, or for a step
 * still running after a moment, leased in the outbox): a slow target never holds up a partition, and
 * everything after an uncommitted message is redelivered, which the steps' records make harmless.
 * Stopping takes no new message, hands back those not started, and lets every started step finish and
 * record its result (within its timeout and `recordGraceMs`) before it commits and leaves the group.
 */
export async function consumeSteps({ consumer, topic, concurrency, stepTimeoutMs, handler, log }: ConsumeOptions) {
  const limit = pLimit({ concurrency, rejectOnClear: true })
  const maxHeld = concurrency * 2
  const offsets = createOffsetTracker((commits) => consumer.commitOffsets(commits.map((commit) => ({ topic, ...commit }))), log)
  // The messages this worker holds (queued or running, not yet leased), which the fetches wait for.
  const running = new Map<string, Promise<unknown>>()
  // The steps in hand until they are over, a leased one included, by message: a copy delivered
  // meanwhile joins the one execution, and stopping waits for those started.
  const inHand = new Map<string, Promise<unknown>>()
  const started = new Set<Promise<unknown>>()
  const waiting = new Set<() => void>()
  let stopping = false

  function dispatch(message: KafkaMessage, tracker: OffsetTracker) {
    const done = tracker.take(message.offset)
    const parsed = parseMessage(message, log)
    if (!parsed) return done()
    // Redelivered while its first delivery is still in hand here (a rebalance restarts at the committed
    // offset): the one execution finishes both.
    const key = `${parsed.runId}:${parsed.stepIndex}:${parsed.attempt}:${parsed.replay}`
    const already = inHand.get(key)
    if (already) return void already.then(done, () => {})
    const execution = limit(() => handledOrLeased(handler, parsed, (handling) => {
      const over = () => {
        started.delete(handling)
        inHand.delete(key)
      }
      started.add(handling)
      handling.then(over, over)
    })).finally(() => {
      running.delete(key)
      const wakes = [...waiting]
      waiting.clear()
      for (const wake of wakes) wake()
    })
    running.set(key, execution)
    inHand.set(key, execution)
    // A message handed back while stopping stays uncommitted, for redelivery.
    execution.then(done, () => inHand.delete(key))
  }

  async function eachBatch({ batch, resolveOffset, heartbeat }: EachBatchPayload) {
    const first = batch.firstOffset()
    if (first === null) return
    const tracker = offsets.partition(batch.partition, first)
    for (const message of batch.messages) {
      while (running.size >= maxHeld && !stopping) {
        await Promise.race([new Promise<void>((resolve) => waiting.add(resolve)), Bun.sleep(heartbeatIntervalMs)])
        await heartbeat().catch(() => {})
      }
      if (stopping) return
      dispatch(message, tracker)
      resolveOffset(message.offset)
    }
  }

  // kafkajs restarts a crashed consumer itself, for as long as Kafka stays away; when it gives up
  // (an error it deems permanent), nothing consumes any more: exit for the supervisor to restart.
  const outage = trackOutage(log, 'Kafka')
  consumer.on(consumer.events.GROUP_JOIN, ({ payload }) => {
    offsets.retain(payload.memberAssignment[topic] ?? [])
    outage.up()
  })
  // What is finished is committed before the group reassigns partitions, so another member does not run it again.
  consumer.on(consumer.events.REBALANCING, () => void offsets.flush())
  consumer.on(consumer.events.CRASH, ({ payload }) => {
    if (payload.restart) return outage.down(payload.error)
    log.fatal({ err: payload.error }, 'the Kafka consumer stopped for good; exiting for a restart')
    log.flush()
    process.exit(1)
  })
  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachBatch, eachBatchAutoResolve: false, autoCommit: false, partitionsConsumedConcurrently: 6 })
  return {
    async stop() {
      stopping = true
      handler.stop()
      consumer.pause([{ topic }])
      limit.clearQueue()
      // Started steps finish and record, and their offsets are committed, so no one calls their targets again.
      const finished = Promise.allSettled(started).then(() => Promise.allSettled(running.values()))
      await Promise.race([finished, Bun.sleep(stepTimeoutMs + recordGraceMs)])
      await Promise.race([offsets.flush(), Bun.sleep(disconnectTimeoutMs)])
      // kafkajs can hang leaving a group mid-rebalance; uncommitted work is redelivered anyway.
      await Promise.race([consumer.disconnect(), Bun.sleep(disconnectTimeoutMs)])
    },
  }
}

/** Settles once the step is over or leased; `onStart` gets the step's whole handling. */
function handledOrLeased(handler: StepHandler, message: StepMessage, onStart: (handling: Promise<unknown>) => void) {
  return new Promise<unknown>((resolve, reject) => {
    const handling = handler.handle(message, () => resolve('leased'))
    onStart(handling)
    handling.then(resolve, reject)
  })
}

function parseMessage({ value, headers }: KafkaMessage, log: Logger): StepMessage | null {
  try {
    const message: StepMessage = v.parse(stepMessage, JSON.parse(value?.toString() ?? ''))
    // The publish span's context, sent only while tracing is on.
    if (headers?.traceparent) message.traceParent = headers.traceparent.toString()
    return message
  } catch {
    log.warn({ value: value?.toString().slice(0, 200) }, 'ignoring a malformed message')
    return null
  }
}
