import { afterAll, beforeAll, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { startKafka, type KafkaBroker } from '@zap/testkit/kafka'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
let kafka: KafkaBroker
let pipeline: Pipeline

beforeAll(async () => {
  kafka = await startKafka()
  pipeline = await startPipeline({ KAFKA_BROKERS: kafka.brokers })
}, 120_000)

afterAll(async () => {
  await pipeline?.stop()
  await kafka?.stop()
  target.stop()
}, 30_000)

test('with Kafka stopped webhooks are still accepted, and every run completes once Kafka is back', async () => {
  const { token } = await signUp()
  const zap = await createZap(token, { steps: [{ type: 'http', config: { url: `${target.url}/after-outage`, body: { n: '{{trigger.body.n}}' } } }] })
  await kafka.pause()
  const runIds: string[] = []
  for (let n = 0; n < 20; n++) {
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { n } })
    expect(response.status).toBe(202)
    runIds.push(response.body.runId)
  }
  // Accepted and committed, but nothing can leave: every run is still queued with its outbox row.
  const [held] = await sql`
    select count(*)::int as runs, count(o.run_id)::int as "outboxRows" from runs r left join outbox o on o.run_id = r.id
    where r.id in ${sql(runIds)} and r.status = 'queued'`
  expect(held).toMatchObject({ runs: 20, outboxRows: 20 })
  expect(target.received).toHaveLength(0)
  await kafka.resume()
  for (const runId of runIds) expect((await waitForRun(token, runId, 60_000)).status).toBe('succeeded')
  const seen = target.requestsTo('/after-outage').map((request) => (request.json as { n: number }).n)
  expect(new Set(seen)).toEqual(new Set(Array.from({ length: 20 }, (_, n) => n)))
}, 120_000)
