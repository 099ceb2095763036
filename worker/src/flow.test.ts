import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'
import { startTarget, type ReceivedRequest } from '@zap/testkit/target'

const target = startTarget()
let pipeline: Pipeline
let secondWorker: RunningService
let token: string

beforeAll(async () => {
  pipeline = await startPipeline()
  secondWorker = await startService('worker', pipeline.env)
  token = (await signUp()).token
}, 60_000)

afterAll(async () => {
  await Promise.all([pipeline?.stop(), secondWorker?.stop()])
  target.stop()
}, 30_000)

const http = (path: string, extra: Record<string, unknown> = {}) => ({ type: 'http', config: { method: 'POST', url: `${target.url}${path}`, ...extra } })

async function fire(zapId: string, body: unknown = {}) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}`, { body })
  expect(response.status).toBe(202)
  return response.body as { runId: string; debouncedInto?: string }
}

/** A path that answers after `delayMs` and remembers how many of its requests overlapped, by a grouping of the body. */
function slowPath(path: string, delayMs: number, groupOf: (request: ReceivedRequest) => string = () => 'all') {
  const inFlight = new Map<string, number>()
  const peaks = new Map<string, number>()
  let peakOverall = 0
  let overall = 0
  target.on(path, async (request) => {
    const group = groupOf(request)
    inFlight.set(group, (inFlight.get(group) ?? 0) + 1)
    overall++
    peaks.set(group, Math.max(peaks.get(group) ?? 0, inFlight.get(group)!))
    peakOverall = Math.max(peakOverall, overall)
    await Bun.sleep(delayMs)
    inFlight.set(group, inFlight.get(group)! - 1)
    overall--
    return Response.json({ ok: true })
  })
  return { peak: (group = 'all') => peaks.get(group) ?? 0, peakOverall: () => peakOverall }
}

const sequence = (path: string, field = 'n') => target.requestsTo(path).map((request) => (request.json as Record<string, unknown>)[field])

async function waitForRuns(runIds: string[], timeoutMs = 60_000) {
  const runs = []
  for (const runId of runIds) runs.push(await waitForRun(token, runId, timeoutMs))
  return runs
}

describe('concurrency', () => {
  test('a limit of 1 runs 50 webhooks one at a time, in the order they arrived, across two workers', async () => {
    const path = '/sequential'
    const slow = slowPath(path, 20)
    const zap = await createZap(token, { steps: [http(path, { body: { n: '{{trigger.body.n}}' } })], concurrency: { limit: 1 } })
    const runIds: string[] = []
    for (let n = 0; n < 50; n++) runIds.push((await fire(zap.id, { n })).runId)
    const waiting = await waitUntilWaiting(zap.id)
    expect(waiting).toMatchObject({ status: 'waiting', wait: { kind: 'concurrency' } })
    expect(waiting.wait.reason).toContain('concurrency slot: limit 1')
    const runs = await waitForRuns(runIds)
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
    expect(slow.peak()).toBe(1)
    expect(sequence(path)).toEqual(Array.from({ length: 50 }, (_, n) => n))
  }, 120_000)

  test('a limit of 3 never has more than 3 runs at once, and all 50 finish', async () => {
    const path = '/three'
    const slow = slowPath(path, 50)
    const zap = await createZap(token, { steps: [http(path)], concurrency: { limit: 3 } })
    const runIds = await Promise.all(Array.from({ length: 50 }, async () => (await fire(zap.id)).runId))
    const runs = await waitForRuns(runIds)
    expect(runs.filter((run) => run.status === 'succeeded')).toHaveLength(50)
    expect(slow.peak()).toBeLessThanOrEqual(3)
    expect(slow.peak()).toBeGreaterThan(1)
  }, 120_000)

  test('a keyed limit lets two customers progress in parallel, each one at a time and in order', async () => {
    const path = '/keyed'
    const customerOf = (request: ReceivedRequest) => String((request.json as { customer: string }).customer)
    const slow = slowPath(path, 100, customerOf)
    const zap = await createZap(token, {
      steps: [http(path, { body: { customer: '{{trigger.body.customer}}', n: '{{trigger.body.n}}' } })],
      concurrency: { limit: 1, key: '{{trigger.body.customer}}' },
    })
    const runIds: string[] = []
    for (let n = 0; n < 10; n++) for (const customer of ['acme', 'globex']) runIds.push((await fire(zap.id, { customer, n })).runId)
    await waitForRuns(runIds)
    expect(slow.peak('acme')).toBe(1)
    expect(slow.peak('globex')).toBe(1)
    expect(slow.peakOverall()).toBe(2)
    for (const customer of ['acme', 'globex']) {
      const order = target.requestsTo(path).filter((request) => customerOf(request) === customer).map((request) => (request.json as { n: number }).n)
      expect(order).toEqual(Array.from({ length: 10 }, (_, n) => n))
    }
  }, 120_000)

  test('a zap without limits is not slowed by a limited zap working through its queue', async () => {
    const slow = slowPath('/queue', 200)
    const limited = await createZap(token, { steps: [http('/queue')], concurrency: { limit: 1 } })
    const free = await createZap(token, { steps: [http('/free')] })
    const queued = await Promise.all(Array.from({ length: 15 }, async () => (await fire(limited.id)).runId))
    await waitUntil(() => target.requestsTo('/queue').length >= 2, 'the limited zap to be under way')
    const runs = await waitForRuns(await Promise.all(Array.from({ length: 10 }, async () => (await fire(free.id)).runId)))
    for (const run of runs) expect(Date.parse(run.finishedAt) - Date.parse(run.createdAt)).toBeLessThan(2_000)
    const limitedRun = await waitForRun(token, queued.at(-1)!, 60_000)
    expect(limitedRun.status).toBe('succeeded')
    expect(slow.peak()).toBe(1)
  }, 120_000)
  test('a run failed by an internal error frees its slot at once for the run parked behind it', async () => {
    let release = () => {}
    const released = new Promise<void>((resolve) => (release = resolve))
    target.on('/broken-record', async (_request, count) => {
      if (count === 1) await released
      return Response.json({ ok: true })
    })
    const zap = await createZap(token, { steps: [http('/broken-record')], concurrency: { limit: 1 } })
    const first = (await fire(zap.id)).runId
    await waitUntil(() => target.requestsTo('/broken-record').length === 1, 'the first run to call its target')
    // A real PostgreSQL error (not an outage) whenever the first run's step result is recorded, until it is failed.
    await sql.unsafe(`
      create function reject_step_record() returns trigger language plpgsql as $$
      begin raise exception 'injected: this step result cannot be stored'; end $$;
      create trigger reject_step_record before insert or update on run_steps for each row
      when (new.run_id = '${first}' and new.status <> 'failed') execute function reject_step_record();`)
    try {
      const second = (await fire(zap.id)).runId
      const statusOf = async (runId: string) => (await call(api, 'GET', `/api/v1/runs/${runId}`, { token })).body.run.status
      await waitUntil(async () => (await statusOf(second)) === 'waiting', 'the second run to wait for the slot')
      release()
      const failed = await waitForRun(token, first, 30_000)
      expect(failed.status).toBe('failed')
      expect(failed.steps[0]!.error).toContain('Internal error: injected')
      // Parked runs look again after 30 s on their own; a freed slot wakes them now.
      const next = await waitForRun(token, second, 30_000)
      expect(next.status).toBe('succeeded')
      expect(Date.parse(next.finishedAt) - Date.parse(failed.finishedAt)).toBeLessThan(15_000)
    } finally {
      await sql.unsafe('drop trigger reject_step_record on run_steps; drop function reject_step_record()')
    }
  }, 120_000)
})

describe('rate limits', () => {
  test('10 per second with 100 webhooks: no second sees more than 10 requests, and all 100 arrive', async () => {
    const path = '/rated'
    const zap = await createZap(token, { steps: [http(path, { rateLimit: { requests: 10, perSeconds: 1 } })] })
    const runIds = await Promise.all(Array.from({ length: 100 }, async () => (await fire(zap.id)).runId))
    const waitingRun = await waitUntilWaiting(zap.id, 'rate_limit')
    expect(waitingRun.wait.kind).toBe('rate_limit')
    const runs = await waitForRuns(runIds, 90_000)
    expect(runs.filter((run) => run.status === 'succeeded')).toHaveLength(100)
    const received = target.requestsTo(path)
    expect(received).toHaveLength(100)
    const perSecond = new Map<number, number>()
    for (const request of received) perSecond.set(Math.floor(request.at / 1000), (perSecond.get(Math.floor(request.at / 1000)) ?? 0) + 1)
    expect(Math.max(...perSecond.values())).toBeLessThanOrEqual(10)
    // Sliding windows too, allowing for the time between letting a request through and this process reading it.
    const times = received.map((request) => request.at).sort((a, b) => a - b)
    for (let i = 10; i < times.length; i++) expect(times[i]! - times[i - 10]!).toBeGreaterThanOrEqual(850)
  }, 120_000)

  test('a named group shares one limit between zaps', async () => {
    const rateLimit = { requests: 2, perSeconds: 1, group: 'crm-quota' }
    const first = await createZap(token, { steps: [http('/group-a', { rateLimit })] })
    const second = await createZap(token, { steps: [http('/group-b', { rateLimit })] })
    const runIds = await Promise.all(Array.from({ length: 4 }, async (_, n) => (await fire(n % 2 ? first.id : second.id)).runId))
    await waitForRuns(runIds)
    const times = [...target.requestsTo('/group-a'), ...target.requestsTo('/group-b')].map((request) => request.at).sort((a, b) => a - b)
    expect(times).toHaveLength(4)
    expect(times[2]! - times[0]!).toBeGreaterThanOrEqual(950)
    expect(times[3]! - times[1]!).toBeGreaterThanOrEqual(950)
  }, 60_000)

  test('a 429 with Retry-After: 2 pauses the host for every run of the user, then all succeed', async () => {
    const path = '/busy'
    let pausedUntil = 0
    target.on(path, () => {
      if (pausedUntil === 0) pausedUntil = Date.now() + 2_000
      if (Date.now() < pausedUntil) return new Response('slow down', { status: 429, headers: { 'retry-after': String(Math.ceil((pausedUntil - Date.now()) / 1000)) } })
      return Response.json({ ok: true })
    })
    const zap = await createZap(token, { steps: [http(path)] })
    const other = await createZap(token, { steps: [http(path)] })
    const first = (await fire(zap.id)).runId
    // Requests already on their way when the 429 arrives cannot be held back; wait until it is recorded.
    await waitUntil(async () => (await call(api, 'GET', `/api/v1/runs/${first}`, { token })).body.run.steps[0].status === 'retrying', 'the first 429 to be recorded')
    const later = await Promise.all(Array.from({ length: 10 }, async (_, n) => (await fire(n % 2 ? zap.id : other.id)).runId))
    const paused = await waitUntilWaiting(other.id)
    expect(paused.wait).toMatchObject({ kind: 'paused' })
    expect(paused.wait.reason).toContain('answered 429')
    const runs = await waitForRuns([first, ...later])
    expect(runs.every((run) => run.status === 'succeeded')).toBe(true)
    const first429 = pausedUntil - 2_000
    const duringPause = target.requestsTo(path).filter((request) => request.at > first429 + 50 && request.at < first429 + 2_000)
    expect(duringPause).toHaveLength(0)
    expect(target.requestsTo(path)).toHaveLength(12)
  }, 60_000)
})

describe('debounce', () => {
  test('20 webhooks within a second become one run with the last payload; 19 are recorded as debounced into it', async () => {
    const path = '/debounced'
    const zap = await createZap(token, { steps: [http(path, { body: { n: '{{trigger.body.n}}' } })], debounce: { waitSeconds: 1.5 } })
    const accepted = []
    for (let n = 0; n < 20; n++) {
      accepted.push(await fire(zap.id, { n }))
      await Bun.sleep(40)
    }
    const absorbing = accepted[0]!.runId
    expect(accepted.slice(1).every((response) => response.debouncedInto === absorbing)).toBe(true)
    const run = await waitForRun(token, absorbing)
    expect(run.status).toBe('succeeded')
    expect(run.trigger.body).toEqual({ n: 19 })
    expect(sequence(path)).toEqual([19])
    const debounced = (await call(api, 'GET', `/api/v1/runs?zapId=${zap.id}&status=debounced`, { token })).body.runs
    expect(debounced).toHaveLength(19)
    expect(debounced.every((other: { debouncedInto: string }) => other.debouncedInto === absorbing)).toBe(true)
  }, 60_000)

  test('maxWaitSeconds bounds the delay of a steady stream, and keys debounce apart', async () => {
    const path = '/max-wait'
    const zap = await createZap(token, {
      steps: [http(path, { body: { n: '{{trigger.body.n}}', key: '{{trigger.body.key}}' } })],
      debounce: { waitSeconds: 1, maxWaitSeconds: 2, key: '{{trigger.body.key}}' },
    })
    const started = Date.now()
    const accepted = []
    for (let n = 0; n < 16; n++) {
      accepted.push(await fire(zap.id, { n, key: 'a' }))
      if (n === 0) accepted.push(await fire(zap.id, { n, key: 'b' }))
      await Bun.sleep(250)
    }
    const runIds = accepted.filter((response) => !response.debouncedInto).map((response) => response.runId)
    await waitForRuns(runIds)
    const [firstA] = target.requestsTo(path).filter((request) => (request.json as { key: string }).key === 'a')
    expect(firstA!.at - started).toBeLessThan(4_000)
    expect(runIds.length).toBeGreaterThanOrEqual(3)
    expect(target.requestsTo(path).filter((request) => (request.json as { key: string }).key === 'b')).toHaveLength(1)
  }, 60_000)
})

describe('debounce without maxWaitSeconds', () => {
  test('a steady stream still runs within 10 times waitSeconds of its first webhook', async () => {
    const path = '/default-max-wait'
    const zap = await createZap(token, { steps: [http(path, { body: { n: '{{trigger.body.n}}' } })], debounce: { waitSeconds: 0.5 } })
    const started = Date.now()
    const accepted = []
    // A webhook every 100 ms for 9 s: each would postpone the run by another 0.5 s.
    while (Date.now() - started < 9_000) {
      accepted.push(await fire(zap.id, { n: accepted.length }))
      await Bun.sleep(100)
    }
    const runIds = accepted.filter((response) => !response.debouncedInto).map((response) => response.runId)
    await waitForRuns(runIds)
    const [first] = target.requestsTo(path)
    expect(first!.at - started).toBeLessThan(8_000)
    expect(runIds.length).toBeGreaterThanOrEqual(2)
  }, 60_000)
})

/** Some run of the zap, as the run list and then the run itself show it while it waits. */
// A burst also parks steps over the zap's fair share of a worker: `kind` picks the wait a test is about.
async function waitUntilWaiting(zapId: string, kind?: string) {
  let seen: Record<string, any> | null = null
  await waitUntil(async () => {
    const runs = (await call(api, 'GET', `/api/v1/runs?zapId=${zapId}&limit=500`, { token })).body.runs
    const waiting = runs.find((run: { status: string; wait: { kind: string } | null }) => run.status === 'waiting' && (kind === undefined || run.wait?.kind === kind))
    if (waiting) seen = (await call(api, 'GET', `/api/v1/runs/${waiting.id}`, { token })).body.run
    return seen?.status === 'waiting'
  }, `a run of zap ${zapId} to be waiting${kind ? ` (${kind})` : ''}`, 30_000)
  return seen!
}
