import { describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'

async function trigger(zapId: string, body: unknown = { n: 1 }) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}?source=test`, { body, headers: { 'x-source': 'unit' } })
  expect(response.status).toBe(202)
  return response.body.runId as string
}

describe('runs', () => {
  test('a run shows its trigger, pinned version and pending steps', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const runId = await trigger(zap.id, { name: 'Grace' })
    const { status, body } = await call(api, 'GET', `/api/v1/runs/${runId}`, { token })
    expect(status).toBe(200)
    expect(body.run).toMatchObject({ id: runId, zapId: zap.id, version: 1, status: 'queued', finishedAt: null })
    expect(body.run.trigger).toMatchObject({ body: { name: 'Grace' }, contentType: 'application/json', query: { source: 'test' } })
    expect(body.run.trigger.headers['x-source']).toBe('unit')
    expect(body.run.steps).toEqual([
      { index: 0, type: 'log', status: 'pending', attempts: 0, input: null, output: null, error: null, startedAt: null, finishedAt: null },
    ])
  })

  test('runs are listed newest first with a cursor', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const ids = []
    for (let i = 0; i < 5; i++) ids.push(await trigger(zap.id, { i }))
    const first = await call(api, 'GET', '/api/v1/runs?limit=2', { token })
    expect(first.body.runs.map((run: { id: string }) => run.id)).toEqual([ids[4], ids[3]])
    const second = await call(api, 'GET', `/api/v1/runs?limit=2&cursor=${first.body.nextCursor}`, { token })
    expect(second.body.runs.map((run: { id: string }) => run.id)).toEqual([ids[2], ids[1]])
    const last = await call(api, 'GET', `/api/v1/runs?limit=2&cursor=${second.body.nextCursor}`, { token })
    expect(last.body).toEqual({ runs: [expect.objectContaining({ id: ids[0] })], nextCursor: null })
  })

  test('runs filter by zap and status', async () => {
    const { token } = await signUp()
    const one = await createZap(token)
    const two = await createZap(token)
    const runOne = await trigger(one.id)
    await trigger(two.id)
    const byZap = await call(api, 'GET', `/api/v1/runs?zapId=${one.id}`, { token })
    expect(byZap.body.runs.map((run: { id: string }) => run.id)).toEqual([runOne])
    const failed = await call(api, 'GET', '/api/v1/runs?status=failed', { token })
    expect(failed.body.runs).toEqual([])
  })

  test('bad list parameters are 400 naming the parameter', async () => {
    const { token } = await signUp()
    for (const query of ['limit=501', 'limit=0', 'status=done', 'zapId=nope', 'cursor=nope']) {
      const response = await call(api, 'GET', `/api/v1/runs?${query}`, { token })
      expect(response.status).toBe(400)
      expect(response.body.error.message).toContain(query.split('=')[0]!)
    }
  })

  test('a bulk replay of 250 failed runs queues them all in several short transactions, not one long one', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const runIds = await Promise.all(Array.from({ length: 250 }, (_, n) => trigger(zap.id, { n })))
    await sql`delete from outbox where run_id in ${sql(runIds)}`
    await sql`update runs set status = 'failed', finished_at = now() where id in ${sql(runIds)}`
    const response = await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: 'failed', zapId: zap.id } })
    expect(response.status).toBe(200)
    expect(response.body).toEqual({ queued: 250, skipped: [] })
    const [runs] = await sql<{ queued: number; transactions: number }[]>`
      select count(*) filter (where status = 'queued')::int as queued, count(distinct xmin::text)::int as transactions
      from runs where id in ${sql(runIds)}`
    expect(runs!.queued).toBe(250)
    expect(runs!.transactions).toBeGreaterThanOrEqual(3)
    const [outbox] = await sql<{ count: number }[]>`select count(*)::int as count from outbox where run_id in ${sql(runIds)}`
    expect(outbox!.count).toBe(250)
  }, 60_000)

  test('bulk replay times must be real dates that PostgreSQL can store', async () => {
    const { token } = await signUp()
    for (const since of ['0000-01-01T00:00:00Z', '2026-02-30T00:00:00Z', '2025-02-29T10:00:00Z', '2026-04-31T00:00:00Z', '0001-01-01T00:00:00+01:00', '2026-13-01T00:00:00Z']) {
      const response = await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: 'failed', since } })
      expect({ since, status: response.status }).toEqual({ since, status: 400 })
      expect(response.body.error.message).toStartWith('since')
    }
    const leap = await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: 'failed', since: '2024-02-29T00:00:00Z', until: '9999-12-31T00:00:00Z' } })
    expect(leap.status).toBe(200)
  })

  test('an unknown run is 404', async () => {
    const { token } = await signUp()
    expect((await call(api, 'GET', `/api/v1/runs/${Bun.randomUUIDv7()}`, { token })).status).toBe(404)
  })
})
