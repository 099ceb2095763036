import { afterAll, afterEach, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
const running: { stop: () => Promise<unknown> }[] = []

// Each test's processor would otherwise relay the next test's outbox rows to its own workers, and
// the next test's would relay this test's backlog (steps waiting for their share come back up to
// minutes later) to the next test's workers.
afterEach(async () => {
  await Promise.all(running.splice(0).map((service) => service.stop()))
  await sql`delete from outbox`
}, 60_000)
afterAll(() => target.stop())

async function pipelineWithWorkers(workers: number, env: Record<string, string>) {
  const pipeline = await startPipeline(env)
  running.push(pipeline)
  const more: RunningService[] = []
  for (let extra = 1; extra < workers; extra++) {
    const worker = await startService('worker', pipeline.env)
    running.push(worker)
    more.push(worker)
  }
  return { pipeline, more }
}

const http = (path: string) => ({ type: 'http', config: { method: 'POST', url: `${target.url}${path}` } })

async function fire(zapId: string) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}`, { body: {} })
  expect(response.status).toBe(202)
  return response.body.runId as string
}

function heldPath(path: string, holdMs: (count: number) => number) {
  let inFlight = 0
  let peak = 0
  target.on(path, async (_request, count) => {
    inFlight++
    peak = Math.max(peak, inFlight)
    await Bun.sleep(holdMs(count))
    inFlight--
    return Response.json({ ok: true })
  })
  return { inFlight: () => inFlight, peak: () => peak }
}

describe('fair share of worker slots', () => {
  test('a zap whose target takes 15 s per call does not delay another zap’s runs', async () => {
    await pipelineWithWorkers(2, { WORKER_CONCURRENCY: '8', STEP_TIMEOUT_MS: '16000', KAFKA_SESSION_TIMEOUT_MS: '40000', STEP_MAX_ATTEMPTS: '2' })
    const { token } = await signUp()
    const slow = heldPath('/fifteen-seconds', () => 15_000)
    const slowZap = await createZap(token, { steps: [http('/fifteen-seconds')] })
    const fastZap = await createZap(token, { steps: [http('/fast')] })
    const { token: otherToken } = await signUp('Grace')
    const otherUsersZap = await createZap(otherToken, { steps: [http('/fast-other')] })
    await Promise.all(Array.from({ length: 40 }, () => fire(slowZap.id)))
    await waitUntil(() => slow.inFlight() >= 8, 'the slow zap to fill its share of both workers')
    const latencies: number[] = []
    for (let round = 0; round < 5; round++) {
      for (const [zapId, owner] of [[fastZap.id, token], [otherUsersZap.id, otherToken]] as const) {
        const run = await waitForRun(owner, await fire(zapId), 10_000)
        expect(run.status).toBe('succeeded')
        latencies.push(Date.parse(run.finishedAt) - Date.parse(run.createdAt))
      }
      await Bun.sleep(200)
    }
    // A zap gets at most half of each worker's 8 slots: 4 + 4 slow calls at once.
    expect(slow.peak()).toBeLessThanOrEqual(8)
    console.log(`fast runs' latencies while the slow zap holds its share: ${latencies.join(', ')} ms`)
    expect(Math.max(...latencies)).toBeLessThan(1_500)
  }, 120_000)
})

describe('fair share between accounts', () => {
  test('with three attacker accounts saturating a worker, a victim’s runs start at once, long before the attackers’ backlog drains', async () => {
    await pipelineWithWorkers(1, { WORKER_CONCURRENCY: '8', STEP_TIMEOUT_MS: '10000', KAFKA_SESSION_TIMEOUT_MS: '30000' })
    const held = heldPath('/attacker', () => 3_000)
    const attackers = await Promise.all(['Mallory', 'Trudy', 'Eve'].map(async (name) => {
      const { token } = await signUp(name)
      return createZap(token, { steps: [http('/attacker')] })
    }))
    for (const zap of attackers) await Promise.all(Array.from({ length: 20 }, () => fire(zap.id)))
    await waitUntil(() => held.inFlight() >= 3, 'the attackers to be calling their target')
    const { token } = await signUp('Victor')
    const victimZap = await createZap(token, { steps: [http('/victim')] })
    const latencies: number[] = []
    for (let round = 0; round < 5; round++) {
      const run = await waitForRun(token, await fire(victimZap.id), 20_000)
      expect(run.status).toBe('succeeded')
      latencies.push(Date.parse(run.finishedAt) - Date.parse(run.createdAt))
    }
    console.log(`victim's latencies while three accounts keep the worker busy: ${latencies.join(', ')} ms`)
    // 60 calls of 3 s on 8 slots take over 20 s: the victim's five runs were not behind them.
    expect(target.requestsTo('/attacker').length).toBeLessThan(60)
    expect(Math.max(...latencies)).toBeLessThan(1_500)
  }, 120_000)
})

describe('a zap with a backlog behind a slow target', () => {
  test('300 queued runs on a 10 s target do not delay the owner’s other zap, and deleting the zap cancels them without calling the target', async () => {
    await pipelineWithWorkers(1, { WORKER_CONCURRENCY: '8', STEP_TIMEOUT_MS: '12000', KAFKA_SESSION_TIMEOUT_MS: '30000' })
    const { token } = await signUp()
    const slow = heldPath('/ten-seconds', () => 10_000)
    const slowZap = await createZap(token, { steps: [http('/ten-seconds')] })
    const fastZap = await createZap(token, { steps: [http('/quick')] })
    for (let batch = 0; batch < 6; batch++) await Promise.all(Array.from({ length: 50 }, () => fire(slowZap.id)))
    await waitUntil(() => slow.inFlight() >= 4, 'the slow zap to fill its share of the worker')
    await waitUntil(async () => (await sql`select 1 from flow_waits where zap_id = ${slowZap.id}`).length >= 290, 'the backlog to wait for its share')
    const latencies: number[] = []
    for (let round = 0; round < 10; round++) {
      const run = await waitForRun(token, await fire(fastZap.id), 20_000)
      expect(run.status).toBe('succeeded')
      latencies.push(Date.parse(run.finishedAt) - Date.parse(run.createdAt))
      await Bun.sleep(100)
    }
    console.log(`the other zap's latencies beside a backlog of 300 slow runs: ${latencies.join(', ')} ms`)
    expect(Math.max(...latencies)).toBeLessThan(1_000)

    const callsBefore = target.requestsTo('/ten-seconds').length
    expect((await call(api, 'DELETE', `/api/v1/zaps/${slowZap.id}`, { token })).status).toBe(204)
    // Long enough for parked steps to come back and for the calls in flight to end.
    await Bun.sleep(12_000)
    expect(target.requestsTo('/ten-seconds').length).toBe(callsBefore)
    const statuses = await sql<{ status: string; runs: number }[]>`select status, count(*)::int as runs from runs where zap_id = ${slowZap.id} group by status`
    expect([...statuses]).toEqual([{ status: 'cancelled', runs: 300 }])
  }, 120_000)

  test('disabling a zap cancels its queued runs: they never call the target', async () => {
    await pipelineWithWorkers(1, { STEP_TIMEOUT_MS: '5000' })
    const { token } = await signUp()
    const held = heldPath('/held-once', () => 1_500)
    const zap = await createZap(token, { steps: [http('/held-once')], concurrency: { limit: 1 } })
    const runIds = await Promise.all(Array.from({ length: 5 }, () => fire(zap.id)))
    await waitUntil(() => held.inFlight() === 1, 'the first run to be calling its target')
    expect((await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { enabled: false } })).status).toBe(200)
    await Bun.sleep(3_000)
    expect(target.requestsTo('/held-once').map((request) => request.headers['idempotency-key'])).toEqual([`${runIds[0]}:0`])
    for (const runId of runIds) expect((await call(api, 'GET', `/api/v1/runs/${runId}`, { token })).body.run.status).toBe('cancelled')
  }, 60_000)
})

describe('a worker killed while it holds a step', () => {
  test('the step comes back within its lease on another worker, and the queue behind it drains', async () => {
    const env = { KAFKA_SESSION_TIMEOUT_MS: '25000', STEP_TIMEOUT_MS: '10000', STEP_MAX_ATTEMPTS: '3' }
    const { pipeline } = await pipelineWithWorkers(1, env)
    const { token } = await signUp()
    const held = heldPath('/held', (count) => (count === 1 ? 9_000 : 50))
    const zap = await createZap(token, { steps: [http('/held')], concurrency: { limit: 1 } })
    const runIds: string[] = []
    for (let n = 0; n < 5; n++) runIds.push(await fire(zap.id))
    await waitUntil(() => held.inFlight() === 1, 'the first run to be calling its target')
    // Killed well inside the attempt's own timeout, whatever the machine's load; the other worker starts
    // after, and joins the group once the killed one's session has ended.
    await Bun.sleep(1_000)
    await pipeline.worker.stop('SIGKILL')
    running.push(await startService('worker', pipeline.env, 60_000))
    for (const runId of runIds) expect((await waitForRun(token, runId, 60_000)).status).toBe('succeeded')
    const firstRunCalls = target.requestsTo('/held').filter((request) => request.headers['idempotency-key'] === `${runIds[0]}:0`)
    expect(firstRunCalls).toHaveLength(2)
    // Taken over once the lease (the attempt's 10 s timeout and 5 s of grace) ran out, not before.
    expect(firstRunCalls[1]!.at - firstRunCalls[0]!.at).toBeGreaterThan(14_000)
    expect(held.peak()).toBe(1)
  }, 120_000)
})
