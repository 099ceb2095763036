import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
let pipeline: Pipeline

beforeAll(async () => {
  pipeline = await startPipeline({ AUTO_REPLAY_SCHEDULE: '300ms,300ms,300ms' })
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  target.stop()
}, 30_000)

target.on('/broken', () => Response.json({ error: 'wrong endpoint' }, { status: 404 }))
const http = (path: string) => ({ type: 'http', config: { url: `${target.url}${path}`, body: { n: '{{trigger.body.n}}' } } })
const hitsFor = (path: string, runId: string) => target.requestsTo(path).filter((request) => request.headers['idempotency-key']?.startsWith(`${runId}:`))

async function failedRun(token: string, steps = [http('/first'), http('/broken')], zapInput: Record<string, unknown> = {}) {
  const zap = await createZap(token, { steps, ...zapInput })
  const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { n: 1 } })
  const run = await waitForRun(token, accepted.body.runId)
  expect(run.status).toBe('failed')
  return { zap, runId: run.id as string }
}

const replay = (token: string, runId: string, body: Record<string, unknown> = {}) => call(api, 'POST', `/api/v1/runs/${runId}/replay`, { token, body })
const fix = (token: string, zapId: string, steps: unknown[]) => call(api, 'PATCH', `/api/v1/zaps/${zapId}`, { token, body: { steps } })

describe('replaying a failed run', () => {
  test('after fixing the zap, a replay runs from the failed step on the latest version, reusing earlier outputs', async () => {
    const { token } = await signUp()
    const { zap, runId } = await failedRun(token)
    await fix(token, zap.id, [http('/first'), http('/fixed')])
    const response = await replay(token, runId)
    expect(response.status).toBe(202)
    expect(response.body.replay).toMatchObject({ version: 2, fromStep: 1, replay: 1 })
    const run = await waitForRun(token, runId)
    expect(run).toMatchObject({ status: 'succeeded', version: 2, replay: 1, replayFrom: 1, replayCause: 'manual' })
    expect(hitsFor('/first', runId)).toHaveLength(1)
    expect(hitsFor('/fixed', runId)).toHaveLength(1)
    expect(run.steps.map((step: { status: string }) => step.status)).toEqual(['succeeded', 'succeeded'])
    expect(run.history).toHaveLength(1)
    expect(run.history[0]).toMatchObject({ replay: 0, version: 1, fromStep: 0, cause: 'webhook', status: 'failed' })
    expect(run.history[0].steps.map((step: { status: string }) => step.status)).toEqual(['succeeded', 'failed'])
    expect(run.history[0].steps[1]).toMatchObject({ index: 1, type: 'http', error: expect.any(String), startedAt: expect.any(String), finishedAt: expect.any(String) })
  })

  test('from the trigger every step runs again', async () => {
    const { token } = await signUp()
    const { zap, runId } = await failedRun(token)
    await fix(token, zap.id, [http('/first'), http('/fixed')])
    await replay(token, runId, { from: 'trigger' })
    expect((await waitForRun(token, runId)).status).toBe('succeeded')
    expect(hitsFor('/first', runId)).toHaveLength(2)
  })

  test('with version pinned the run keeps the version it started with', async () => {
    const { token } = await signUp()
    const { zap, runId } = await failedRun(token)
    await fix(token, zap.id, [http('/first'), http('/fixed')])
    expect((await replay(token, runId, { version: 'pinned' })).body.replay.version).toBe(1)
    const run = await waitForRun(token, runId)
    expect(run).toMatchObject({ status: 'failed', version: 1 })
    expect(hitsFor('/broken', runId)).toHaveLength(2)
    expect(run.history).toHaveLength(1)
  })

  test('a replay that cannot apply to the latest version is 409 with the reason', async () => {
    const { token } = await signUp()
    const { zap, runId } = await failedRun(token)
    await fix(token, zap.id, [http('/first')])
    const response = await replay(token, runId)
    expect(response.status).toBe(409)
    expect(response.body.error.code).toBe('replay_not_applicable')
    expect(response.body.error.message).toContain('only 1 steps')
  })

  test('a run that did not fail is 409, and another user’s run is 404', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { steps: [http('/first')] })
    const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
    await waitForRun(token, accepted.body.runId)
    const response = await replay(token, accepted.body.runId)
    expect(response.status).toBe(409)
    expect(response.body.error.code).toBe('run_not_failed')
    const { runId } = await failedRun(token)
    const other = await signUp('Mallory')
    expect((await replay(other.token, runId)).status).toBe(404)
  })

  test('bad replay options are 400', async () => {
    const { token } = await signUp()
    const { runId } = await failedRun(token)
    expect((await replay(token, runId, { from: 'middle' })).status).toBe(400)
  })
})

describe('bulk replay', () => {
  test('replays exactly the matching failed runs, and calling it twice queues nothing more', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { steps: [http('/broken')] })
    const runIds: string[] = []
    for (let n = 0; n < 5; n++) runIds.push((await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { n } })).body.runId)
    for (const runId of runIds) expect((await waitForRun(token, runId)).status).toBe('failed')
    const other = await failedRun(token)
    await fix(token, zap.id, [http('/fixed')])
    const body = { zapId: zap.id, status: 'failed' }
    const [first, second] = await Promise.all([
      call(api, 'POST', '/api/v1/runs/replay', { token, body }),
      call(api, 'POST', '/api/v1/runs/replay', { token, body }),
    ])
    expect(first.body.queued + second.body.queued).toBe(5)
    expect((await call(api, 'POST', '/api/v1/runs/replay', { token, body })).body.queued).toBe(0)
    for (const runId of runIds) expect((await waitForRun(token, runId)).status).toBe('succeeded')
    for (const runId of runIds) expect(hitsFor('/fixed', runId)).toHaveLength(1)
    expect((await call(api, 'GET', `/api/v1/runs/${other.runId}`, { token })).body.run.status).toBe('failed')
  })

  test('status must be failed and times must be ISO timestamps', async () => {
    const { token } = await signUp()
    expect((await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: 'succeeded' } })).status).toBe(400)
    const response = await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: 'failed', since: 'yesterday' } })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain('since')
  })
})

test('automatic replay succeeds on its second scheduled attempt', async () => {
  const { token } = await signUp()
  target.on('/third-time', (_request, count) => (count <= 2 ? Response.json({ error: 'not yet' }, { status: 422 }) : Response.json({ ok: true })))
  const zap = await createZap(token, { steps: [http('/third-time')], autoReplay: true })
  expect(zap).toMatchObject({ autoReplay: true })
  const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
  let run = await waitForRun(token, accepted.body.runId)
  for (let tries = 0; run.status === 'failed' && run.replay < 2 && tries < 20; tries++) {
    await Bun.sleep(200)
    run = await waitForRun(token, accepted.body.runId)
  }
  expect(run).toMatchObject({ status: 'succeeded', replay: 2, replayCause: 'auto' })
  expect(run.history.map((entry: { status: string; cause: string }) => [entry.cause, entry.status])).toEqual([['webhook', 'failed'], ['auto', 'failed']])
  expect(target.requestsTo('/third-time')).toHaveLength(3)
})
