import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { startPipeline, testKafka, waitForConsumed, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startTarget } from '@zap/testkit/target'
import { waitUntil } from '@zap/testkit/services'

const target = startTarget()
let pipeline: Pipeline
let token: string

beforeAll(async () => {
  pipeline = await startPipeline()
  token = (await signUp()).token
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  target.stop()
}, 30_000)

const http = (path: string, extra: Record<string, unknown> = {}) => ({ type: 'http', config: { method: 'POST', url: `${target.url}${path}`, ...extra } })

async function fire(zapId: string, body: unknown = {}, headers: Record<string, string> = {}) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}?id=q7`, { body, headers })
  expect(response.status).toBe(202)
  return response.body.runId as string
}

describe('the pipeline', () => {
  test('two http steps run in order, the second rendered from the trigger and the first step’s output', async () => {
    target.on('/create', () => Response.json({ id: 'cus_123', plan: 'pro' }))
    const zap = await createZap(token, {
      steps: [
        http('/create', { body: { email: '{{trigger.body.customer.email}}', source: '{{trigger.headers.x-source}}', q: '{{trigger.query.id}}' } }),
        http('/welcome', { body: { customer: '{{steps.0.output.body.id}}', text: 'Hi {{trigger.body.customer.name}}, plan {{steps.0.output.body.plan}}' } }),
      ],
    })
    const runId = await fire(zap.id, { customer: { email: 'ada@example.com', name: 'Ada' } }, { 'x-source': 'shop' })
    const run = await waitForRun(token, runId)
    expect(run.status).toBe('succeeded')
    const [create] = target.requestsTo('/create').filter((request) => request.headers['idempotency-key'] === `${runId}:0`)
    const [welcome] = target.requestsTo('/welcome').filter((request) => request.headers['idempotency-key'] === `${runId}:1`)
    expect(create!.json).toEqual({ email: 'ada@example.com', source: 'shop', q: 'q7' })
    expect(welcome!.json).toEqual({ customer: 'cus_123', text: 'Hi Ada, plan pro' })
    expect(welcome!.at).toBeGreaterThanOrEqual(create!.at)
    expect(run.steps.map((step) => [step.status, step.attempts])).toEqual([['succeeded', 1], ['succeeded', 1]])
    expect(run.steps[0]!.output).toMatchObject({ status: 200, body: { id: 'cus_123', plan: 'pro' } })
    expect(run.steps[1]!.output).toMatchObject({ status: 200 })
    expect(run.finishedAt).not.toBeNull()
  })

  test('a target failing twice then succeeding makes the run succeed on the third attempt', async () => {
    target.on('/flaky', (_request, count) => (count <= 2 ? new Response('busy', { status: 503 }) : Response.json({ ok: true })))
    const zap = await createZap(token, { steps: [http('/flaky')] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.status).toBe('succeeded')
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', attempts: 3 })
    expect(target.requestsTo('/flaky')).toHaveLength(3)
  })

  test('a target that always fails fails the run after the configured attempts, with the error', async () => {
    target.on('/down', () => new Response('nope', { status: 500 }))
    const zap = await createZap(token, { steps: [http('/down'), http('/never')] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 4 })
    expect(run.steps[0]!.error).toContain('answered 500')
    expect(run.steps[0]!.error).toContain('4 attempts')
    expect(run.steps[1]!.status).toBe('pending')
    expect(target.requestsTo('/down')).toHaveLength(4)
    expect(target.requestsTo('/never')).toHaveLength(0)
  })

  test('a 400 from the target fails the run at once', async () => {
    target.on('/bad', () => Response.json({ error: 'bad email' }, { status: 400 }))
    const zap = await createZap(token, { steps: [http('/bad')] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1, output: { status: 400, body: { error: 'bad email' } } })
  })

  test('a 429 is retried after its Retry-After', async () => {
    target.on('/limited', (_request, count) => (count === 1 ? new Response('slow down', { status: 429, headers: { 'retry-after': '1' } }) : Response.json({})))
    const zap = await createZap(token, { steps: [http('/limited')] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.steps[0]).toMatchObject({ status: 'succeeded', attempts: 2 })
    const [first, second] = target.requestsTo('/limited')
    expect(second!.at - first!.at).toBeGreaterThanOrEqual(900)
  })

  test('a slow target past the timeout is retried, then fails with a timeout error', async () => {
    target.on('/slow', async () => {
      await Bun.sleep(1_500)
      return Response.json({})
    })
    const zap = await createZap(token, { steps: [http('/slow', { timeoutMs: 200 })] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.error).toContain('within 200 ms')
    expect(run.steps[0]!.attempts).toBe(4)
  })

  test('a malformed template fails the step instead of hanging', async () => {
    const zap = await createZap(token, { steps: [http('/never', { body: { x: '{{trigger.body.' } })] })
    const run = await waitForRun(token, await fire(zap.id))
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1 })
    expect(run.steps[0]!.error).toContain('Unclosed')
  })

  test('a missing field renders empty and is listed in the recorded input', async () => {
    const zap = await createZap(token, { steps: [http('/missing', { body: { email: '{{trigger.body.email}}' } })] })
    const run = await waitForRun(token, await fire(zap.id, { name: 'no email' }))
    expect(run.status).toBe('succeeded')
    expect(run.steps[0]!.input.missing).toEqual(['trigger.body.email'])
    expect(target.requestsTo('/missing').at(-1)!.json).toEqual({ email: '' })
  })

  test('a redelivered step message executes nothing twice', async () => {
    const zap = await createZap(token, { steps: [http('/once')] })
    const runId = await fire(zap.id)
    expect((await waitForRun(token, runId)).status).toBe('succeeded')
    const producer = testKafka().producer()
    await producer.connect()
    await producer.send({ topic: pipeline.topic, messages: [{ key: runId, value: JSON.stringify({ runId, stepIndex: 0, attempt: 1 }) }] })
    await producer.disconnect()
    await waitForConsumed(pipeline.topic, pipeline.group)
    expect(target.requestsTo('/once').filter((request) => request.headers['idempotency-key'] === `${runId}:0`)).toHaveLength(1)
  })

  test('a processor that crashed between publishing and deleting causes no duplicate effect', async () => {
    target.on('/crash', async () => {
      await Bun.sleep(300)
      return Response.json({})
    })
    const zap = await createZap(token, { steps: [http('/crash'), http('/after-crash')] })
    const runId = await fire(zap.id)
    // What such a crash leaves behind: the message is on the topic and its outbox row is still there.
    const producer = testKafka().producer()
    await producer.connect()
    await producer.send({ topic: pipeline.topic, messages: [{ key: runId, value: JSON.stringify({ runId, stepIndex: 0, attempt: 1 }) }] })
    await producer.disconnect()
    expect((await waitForRun(token, runId)).status).toBe('succeeded')
    await waitForConsumed(pipeline.topic, pipeline.group)
    const effects = (path: string) => target.requestsTo(path).filter((request) => request.headers['idempotency-key']?.startsWith(runId))
    const crashEffects = effects('/crash')
    expect(crashEffects.length).toBeGreaterThanOrEqual(1)
    expect(new Set(crashEffects.map((request) => request.headers['idempotency-key']))).toEqual(new Set([`${runId}:0`]))
    expect(effects('/after-crash')).toHaveLength(1)
    const [steps] = await sql`select count(*)::int as count from run_steps where run_id = ${runId}`
    expect(steps!.count).toBe(2)
  })

  test('editing the zap while a run is in flight does not change that run', async () => {
    // The first step's target answers only after the edit, so the run is certainly in flight while it happens.
    let answerFirst = () => {}
    const edited = new Promise<void>((resolve) => (answerFirst = resolve))
    target.on('/first', async () => {
      await edited
      return Response.json({})
    })
    const zap = await createZap(token, { steps: [http('/first'), http('/old-second')] })
    const runId = await fire(zap.id)
    await waitUntil(() => target.requestsTo('/first').some((request) => request.headers['idempotency-key'] === `${runId}:0`), 'the first step to reach its target')
    const edit = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { steps: [http('/first'), http('/new-second')] } })
    answerFirst()
    expect(edit.body.zap.version).toBe(2)
    const run = await waitForRun(token, runId)
    expect(run).toMatchObject({ status: 'succeeded', version: 1 })
    expect(target.requestsTo('/old-second').filter((request) => request.headers['idempotency-key'] === `${runId}:1`)).toHaveLength(1)
    expect(target.requestsTo('/new-second').filter((request) => request.headers['idempotency-key'] === `${runId}:1`)).toHaveLength(0)
  })
})
