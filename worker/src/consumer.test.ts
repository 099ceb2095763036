import { afterAll, beforeAll, expect, test } from 'bun:test'
import type { Admin, Producer } from 'kafkajs'
import { createKafka, createStepConsumer, ensureTopic } from '@zap/lib/kafka'
import { createLogger } from '@zap/lib/log'
import type { StepMessage } from '@zap/lib/messages'
import { requireEnv, waitUntil } from '@zap/testkit/services'
import { consumeSteps } from './consumer.ts'

const log = createLogger('consumer-test', { level: 'silent', pretty: false })
const kafka = createKafka(requireEnv('KAFKA_BROKERS'), 'consumer-test', log)
const topic = `consumer-test-${crypto.randomUUID()}`
const group = `consumer-test-${crypto.randomUUID()}`
let producer: Producer
let admin: Admin

beforeAll(async () => {
  await ensureTopic(kafka, topic, 1)
  producer = kafka.producer()
  admin = kafka.admin()
  await Promise.all([producer.connect(), admin.connect()])
})
afterAll(async () => {
  await Promise.all([producer.disconnect(), admin.disconnect()])
})

const step = (stepIndex: number): StepMessage => ({ runId: crypto.randomUUID(), stepIndex, attempt: 1, replay: 0 })
const send = (message: StepMessage) => producer.send({ topic, messages: [{ value: JSON.stringify(message) }] })

async function committed() {
  const [offsets] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
  return Number(offsets!.partitions[0]!.offset)
}

test('a step still running holds neither the next fetch nor the steps behind it, and the commit stops before it', async () => {
  const handled: number[] = []
  let releaseSlow = () => {}
  const slowDone = new Promise<void>((resolve) => (releaseSlow = resolve))
  const handler = {
    async handle(message: StepMessage) {
      if (message.stepIndex === 0) await slowDone
      handled.push(message.stepIndex)
    },
    stop() {},
  }
  const consumer = createStepConsumer(kafka, group, 6_000)
  await consumer.connect()
  const consuming = await consumeSteps({ consumer, topic, concurrency: 4, handler, log })
  try {
    await send(step(0)) // offset 0: runs until released
    await Bun.sleep(300) // fetched alone, so the next message comes in a later fetch
    for (let index = 1; index <= 3; index++) await send(step(index))
    await waitUntil(() => handled.length === 3, 'the messages behind the running step to be handled')
    expect(handled).toEqual([1, 2, 3])
    await Bun.sleep(300)
    expect(await committed()).toBeLessThanOrEqual(0) // nothing committed past the step still running
    releaseSlow()
    await waitUntil(async () => (await committed()) === 4, 'every offset to be committed once the running step finished')
  } finally {
    releaseSlow()
    await consuming.stop()
  }
}, 30_000)
