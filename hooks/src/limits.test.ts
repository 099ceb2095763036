import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect, type Sql } from '@zap/sql/db'
import { watchDatabase } from '@zap/lib/health'
import { api, call, createZap, databaseUrl, log, signUp, sql } from '@zap/testkit/http'
import { startService, type RunningService } from '@zap/testkit/services'
import { createRateLimiter } from '@zap/sql/rate-limits'
import { createHooks } from './app.ts'

const countRuns = async (zapId: string) => Number((await sql`select count(*) from runs where zap_id = ${zapId}`)[0]!.count)
const storedCount = async (key: string) => (await sql<{ points: number }[]>`select points from rate_limits where key = ${key}`)[0]?.points

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

  test('30 webhooks at once across both replicas to a zap allowing 7: exactly 7 are accepted, 23 are 429 with Retry-After, and the counter holds 30', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { webhookRateLimit: { requests: 7, perSeconds: 3600 } })
    const responses = await Promise.all(Array.from({ length: 30 }, (_, i) => send(replicas[i % 2]!, zap.id, { i })))
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 202)).toHaveLength(7)
    expect(statuses.filter((status) => status === 429)).toHaveLength(23)
    for (const limited of responses.filter((response) => response.status === 429)) {
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(3600)
    }
    expect(await storedCount(`webhook-7/3600:${zap.id}`)).toBe(30)
    expect(await countRuns(zap.id)).toBe(7)
  }, 30_000)

  test('two hooks apps on one database share a zap’s limit, each looking it up and counting the webhooks it receives at once with one statement per limit (the zap’s and its owner’s), the earliest allowed', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { webhookRateLimit: { requests: 5, perSeconds: 3600 } })
    const apps = [countingHooks(), countingHooks()]
    try {
      const post = (app: CountingHooks, i: number) => postTo(app, zap.id, { i })
      const answers = await Promise.all(apps.map((app) => Promise.all(Array.from({ length: 12 }, (_, i) => post(app, i)))))
      expect(apps.map((app) => app.counted)).toEqual([{ lookups: 1, counts: 2 }, { lookups: 1, counts: 2 }])
      const statuses = answers.map((responses) => responses.map((response) => response.status))
      expect(statuses.flat().filter((status) => status === 202)).toHaveLength(5)
      expect(statuses.flat().filter((status) => status === 429)).toHaveLength(19)
      for (const ofApp of statuses) expect(ofApp).toEqual(ofApp.toSorted())
      for (const limited of answers.flat().filter((response) => response.status === 429)) {
        expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
        expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
      }
      expect(await storedCount(`webhook-5/3600:${zap.id}`)).toBe(24)
      expect(await countRuns(zap.id)).toBe(5)
    } finally {
      await Promise.all(apps.map((app) => app.stop()))
    }
  }, 30_000)

  test('a busy zap’s points are counted ahead, never past its limit: two replicas at 1,000/h accept 980 to 1,000 of 1,200 webhooks', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { webhookRateLimit: { requests: 1000, perSeconds: 3600 } })
    const apps = [countingHooks(), countingHooks()]
    try {
      const post = (app: CountingHooks, i: number) => postTo(app, zap.id, { i })
      const statuses: number[] = []
      for (let wave = 0; wave < 12; wave++) {
        const answers = await Promise.all(apps.flatMap((app) => Array.from({ length: 50 }, (_, i) => post(app, wave * 100 + i))))
        statuses.push(...answers.map((answer) => answer.status))
      }
      const accepted = statuses.filter((status) => status === 202).length
      expect(statuses.filter((status) => status !== 202 && status !== 429)).toEqual([])
      // Each replica may hold up to 1% of the limit counted but unused.
      expect(accepted).toBeLessThanOrEqual(1000)
      expect(accepted).toBeGreaterThanOrEqual(980)
      expect(await countRuns(zap.id)).toBe(accepted)
      expect(await storedCount(`webhook-1000/3600:${zap.id}`)).toBeGreaterThanOrEqual(accepted)
    } finally {
      await Promise.all(apps.map((app) => app.stop()))
    }
  }, 60_000)

  test('a busy key is counted ahead, one statement for many waves of requests; the points end with their window, after which the next request is counted again', async () => {
    const { client, counting, counted } = countingClient()
    const limiter = createRateLimiter(counting, 'lease-window', { requests: 100_000, perSeconds: 1 }, { lease: true })
    const key = Bun.randomUUIDv7()
    try {
      const startedAt = Date.now()
      const outcomes = []
      for (let wave = 0; wave < 50; wave++) {
        outcomes.push(...(await Promise.all(Array.from({ length: 20 }, () => limiter.consume(key)))))
        await Bun.sleep(2)
      }
      expect(outcomes.every((outcome) => outcome.kind === 'allowed')).toBe(true)
      // Counted one by one, 50 waves would be 50 statements.
      expect(counted.counts).toBeLessThanOrEqual(5)
      const [window] = await sql<{ points: number }[]>`select points from rate_limits where key = ${`lease-window:${key}`}`
      expect(window!.points).toBeGreaterThanOrEqual(outcomes.length)
      await Bun.sleep(startedAt + 1_200 - Date.now())
      const before = counted.counts
      expect(await limiter.consume(key)).toEqual({ kind: 'allowed' })
      expect(counted.counts).toBe(before + 1)
    } finally {
      await client.end({ timeout: 1 })
    }
  })

  test('every spelling of a zap id counts against one limit: upper, lower and mixed case, on both URLs and the subscription check', async () => {
    const { token, user } = await signUp()
    const zap = await createZap(token, { webhookRateLimit: { requests: 5, perSeconds: 3600 } })
    const mixed = [...zap.id].map((char, i) => (i % 2 ? char.toUpperCase() : char)).join('')
    const spellings = [zap.id.toUpperCase(), zap.id, mixed, `catch/${user.id.toUpperCase()}/${mixed.toUpperCase()}`]
    const statuses = []
    for (let i = 0; i < 12; i++) statuses.push((await send(replicas[i % 2]!, spellings[i % spellings.length]!)).status)
    expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429, 429, 429, 429, 429])
    const check = await fetch(`${replicas[0]!.url}/hooks/${mixed}?hub.mode=subscribe&hub.challenge=c&hub.verify_token=t`)
    expect(check.status).toBe(429)
    expect(await countRuns(zap.id)).toBe(5)
    expect(await storedCount(`webhook-5/3600:${zap.id}`)).toBe(13)
    expect(await sql`select key from rate_limits where lower(key) = ${`webhook-5/3600:${zap.id}`} and key <> ${`webhook-5/3600:${zap.id}`}`).toHaveLength(0)
  })

  test('one noisy zap does not use up another zap’s limit', async () => {
    const { token } = await signUp()
    const noisy = await createZap(token)
    const quiet = await createZap(token)
    for (let i = 0; i < 8; i++) await send(replicas[0]!, noisy.id)
    expect((await send(replicas[1]!, quiet.id)).status).toBe(202)
  })

  test('USER_WEBHOOK_RATE_LIMIT caps all of a user’s zaps together, whatever their own limits; other users are not counted with them', async () => {
    const capped = await startService('hooks', { USER_WEBHOOK_RATE_LIMIT: '5/5m' })
    try {
      const { token } = await signUp()
      const zaps = await Promise.all([0, 1, 2].map(() => createZap(token, { webhookRateLimit: { requests: 100, perSeconds: 3600 } })))
      const statuses = []
      for (let i = 0; i < 9; i++) statuses.push((await send(capped, zaps[i % 3]!.id)).status)
      expect(statuses).toEqual([202, 202, 202, 202, 202, 429, 429, 429, 429])
      const limited = await send(capped, zaps[0]!.id)
      expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
      expect(await Promise.all(zaps.map((zap) => countRuns(zap.id)))).toEqual([2, 2, 1])
      const { token: otherToken } = await signUp('Grace')
      const other = await createZap(otherToken)
      expect((await send(capped, other.id)).status).toBe(202)
    } finally {
      await capped.stop()
    }
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

type CountingHooks = ReturnType<typeof countingHooks>

const postTo = (app: CountingHooks, zapId: string, body: unknown) =>
  app.hooks.handle(new Request(`http://localhost/hooks/${zapId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) }))

/** A client of its own that counts the zap-limit lookups and the rate-limit statements sent through it. */
function countingClient() {
  const client = connect(databaseUrl, { max: 4 })
  const counted = { lookups: 0, counts: 0 }
  // rate-limiter-flexible's statements go through `unsafe`; the lookup is a tagged template.
  const unsafe: Sql['unsafe'] = (text, ...rest) => {
    if (text.includes('rate_limits')) counted.counts++
    return client.unsafe(text, ...rest)
  }
  const counting = new Proxy(client, {
    get: (target, property) => (property === 'unsafe' ? unsafe : Reflect.get(target, property)),
    apply: (target, thisArg, args) => {
      if (Array.isArray(args[0]) && args[0].join('').includes('webhook_rate_limit')) counted.lookups++
      return Reflect.apply(target, thisArg, args)
    },
  })
  return { client, counting, counted }
}

/** A hooks app on a counting client. */
function countingHooks() {
  const { client, counting, counted } = countingClient()
  const database = watchDatabase(counting, log)
  const hooks = createHooks({
    sql: counting,
    database,
    maxBodyBytes: 64 * 1024,
    maxJsonDepth: 128,
    webhookRateLimit: { requests: 1_000_000, perSeconds: 60 },
    userWebhookRateLimit: { requests: 1_000_000, perSeconds: 60 },
    ingestLimits: { timeoutMs: 10_000, maxPending: 1_000, batchMs: 1, maxBatch: 100 },
    log,
  })
  return {
    hooks,
    counted,
    async stop() {
      database.stop()
      await client.end({ timeout: 1 })
    },
  }
}
