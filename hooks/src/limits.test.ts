import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, signUp, sql } from '@zap/testkit/http'
import { startService, type RunningService } from '@zap/testkit/services'

const countRuns = async (zapId: string) => Number((await sql`select count(*) from runs where zap_id = ${zapId}`)[0]!.count)

// Two replicas of hooks on one database: a limit must hold across both.
let replicas: RunningService[] = []

beforeAll(async () => {
  replicas = await Promise.all([startService('hooks', { WEBHOOK_RATE_LIMIT: '6/5m' }), startService('hooks', { WEBHOOK_RATE_LIMIT: '6/5m' })])
})

afterAll(async () => {
  await Promise.all(replicas.map((replica) => replica.stop()))
})

const send = (replica: RunningService, zapId: string, body: unknown = { n: 1 }, headers: Record<string, string> = {}) =>
  fetch(`${replica.url}/hooks/${zapId}`, { method: 'POST', headers: { 'content-type': 'application/json', ...headers }, body: JSON.stringify(body) })

describe('webhook rate limits', () => {
  test('the default limit holds across replicas: over it is 429 with Retry-After and nothing is stored', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const statuses = []
    for (let i = 0; i < 10; i++) statuses.push((await send(replicas[i % 2]!, zap.id)).status)
    expect(statuses).toEqual([202, 202, 202, 202, 202, 202, 429, 429, 429, 429])
    const limited = await send(replicas[0]!, zap.id)
    expect(limited.status).toBe(429)
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
    expect(await countRuns(zap.id)).toBe(6)
  })

  test('one noisy zap does not use up another zap’s limit', async () => {
    const { token } = await signUp()
    const noisy = await createZap(token)
    const quiet = await createZap(token)
    for (let i = 0; i < 8; i++) await send(replicas[0]!, noisy.id)
    expect((await send(replicas[1]!, quiet.id)).status).toBe(202)
  })

  test('a zap’s own webhookRateLimit replaces the default', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { webhookRateLimit: { requests: 2, perSeconds: 3600 } })
    const roomy = await createZap(token, { webhookRateLimit: { requests: 20, perSeconds: 60 } })
    const statuses = []
    for (let i = 0; i < 4; i++) statuses.push((await send(replicas[i % 2]!, zap.id)).status)
    expect(statuses).toEqual([202, 202, 429, 429])
    const roomyStatuses = []
    for (let i = 0; i < 10; i++) roomyStatuses.push((await send(replicas[i % 2]!, roomy.id)).status)
    expect(roomyStatuses.every((status) => status === 202)).toBeTrue()
    const shown = await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })
    expect(shown.body.zap.webhookRateLimit).toEqual({ requests: 2, perSeconds: 3600 })
  })

  test('an invalid webhookRateLimit is 400 naming the field', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    for (const webhookRateLimit of [{ requests: 0, perSeconds: 1 }, { requests: 1 }, { requests: 1.5, perSeconds: 60 }, 'fast']) {
      const response = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { webhookRateLimit } })
      expect(response.status).toBe(400)
      expect(response.body.error.message).toStartWith('webhookRateLimit')
    }
    const cleared = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { webhookRateLimit: null } })
    expect(cleared.body.zap.webhookRateLimit).toBeNull()
  })

  test('an unknown zap is 404 and is not counted', async () => {
    const unknown = Bun.randomUUIDv7()
    for (let i = 0; i < 8; i++) expect((await send(replicas[0]!, unknown)).status).toBe(404)
    expect(await sql`select 1 from rate_limits where key like ${`%${unknown}`}`).toHaveLength(0)
  })
})
