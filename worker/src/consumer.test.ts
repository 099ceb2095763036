import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Admin, Producer } from 'kafkajs'
import { createKafka, createStepConsumer, ensureTopic } from '@zap/lib/kafka'
import { createLogger } from '@zap/lib/log'
import type { StepMessage } from '@zap/lib/messages'
import { requireEnv, waitUntil } from '@zap/testkit/services'
import { consumeSteps } from './consumer.ts'

const log = createLogger('consumer-test', { level: 'silent', pretty: false })
const kafka = createKafka(requireEnv('KAFKA_BROKERS'), 'consumer-test', log)
let producer: Producer
let admin: Admin

beforeAll(async () => {
  producer = kafka.producer()
  admin = kafka.admin()
  await Promise.all([producer.connect(), admin.connect()])
})
afterAll(async () => {
  await Promise.all([producer.disconnect(), admin.disconnect()])
})

const step = (stepIndex: number): StepMessage => ({ runId: crypto.randomUUID(), stepIndex, attempt: 1, replay: 0 })

/**
 * A topic of one partition, its own group, and a step handler that holds step 0 (with `holdAll`, every
 * step) until released; with `leaseAt0`, step 0 reports itself leased at once (as a step still running
 * after a moment does).
 */
async function consuming({ leaseAt0 = false, holdAll = false, concurrency = 4 } = {}) {
  const topic = `consumer-test-${crypto.randomUUID()}`
  const group = `consumer-test-${crypto.randomUUID()}`
  await ensureTopic(kafka, topic, 1)
  const handled: number[] = []
  let release = () => {}
  const released = new Promise<void>((resolve) => (release = resolve))
  const handler = {
    async handle(message: StepMessage, onDetached?: () => void) {
      if (message.stepIndex === 0 && leaseAt0) onDetached?.()
      if (message.stepIndex === 0 || holdAll) await released
      handled.push(message.stepIndex)
    },
    stop() {},
  }
  const consumer = createStepConsumer(kafka, group, 6_000)
  await consumer.connect()
  const consumption = await consumeSteps({ consumer, topic, concurrency, stepTimeoutMs: 10_000, handler, log })
  return {
    handled,
    release,
    send: (message: StepMessage) => producer.send({ topic, messages: [{ value: JSON.stringify(message) }] }),
    async committed() {
      const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
      return Number(offsets!.partitions[0]!.offset)
    },
    /** Stops as the worker does, with step 0 still held unless released before. */
    stopConsuming: () => consumption.stop(),
    async stop() {
      release()
      await consumption.stop()
    },
  }
}

test('a step still running holds neither the next fetch nor the steps behind it, and the commit stops before it', async () => {
  const { handled, release, send, committed, stop } = await consuming()
  try {
    await send(step(0)) // offset 0: runs until released
    await Bun.sleep(300) // fetched alone, so the next message comes in a later fetch
    for (let index = 1; index <= 3; index++) await send(step(index))
    await waitUntil(() => handled.length === 3, 'the messages behind the running step to be handled')
    expect(handled).toEqual([1, 2, 3])
    await Bun.sleep(300)
    expect(await committed()).toBeLessThanOrEqual(0) // nothing committed past the step still running
    release()
    await waitUntil(async () => (await committed()) === 4, 'every offset to be committed once the running step finished')
  } finally {
    await stop()
  }
}, 30_000)

test('a step delivered again while it still runs here is not run twice, and both offsets are committed once it finished', async () => {
  const { handled, release, send, committed, stop } = await consuming()
  try {
    const slow = step(0)
    await send(slow)
    await Bun.sleep(300)
    await send(slow) // as the relay sends it again after a crash between publishing and deleting
    await send(step(1))
    await waitUntil(() => handled.includes(1), 'the step behind the copies to be handled')
    release()
    await waitUntil(async () => (await committed()) === 3, 'every offset to be committed')
    expect(handled).toEqual([1, 0])
  } finally {
    await stop()
  }
}, 30_000)

test('stopping lets the steps in flight finish and commits them, so a restart does not run them again', async () => {
  const { handled, release, send, committed, stopConsuming } = await consuming()
  await send(step(0))
  await Bun.sleep(500) // fetched and running
  const stopped = stopConsuming()
  await Bun.sleep(300)
  expect(handled).toEqual([]) // still waiting for the step
  release()
  await stopped
  expect(handled).toEqual([0])
  expect(await committed()).toBe(1)
}, 30_000)

test('stopping waits for a leased step still calling its target, and hands back the messages not started', async () => {
  const { handled, release, send, committed, stopConsuming } = await consuming({ leaseAt0: true, holdAll: true, concurrency: 1 })
  await send(step(0))
  await Bun.sleep(500) // fetched, running and leased, which frees its slot
  await send(step(1)) // takes the slot
  await send(step(2)) // waits for it
  await Bun.sleep(500)
  const stopped = stopConsuming()
  let over = false
  void stopped.then(() => (over = true))
  await Bun.sleep(1_000)
  expect(over).toBe(false) // still waiting for the leased step to record its result
  release()
  await stopped
  expect(handled.toSorted()).toEqual([0, 1])
  expect(await committed()).toBe(2) // the message not started goes to the next member of the group
}, 30_000)
