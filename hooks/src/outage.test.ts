import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from '@zap/testkit/postgres'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'
import { startWebhookLoad, type WebhookAnswer } from '@zap/testkit/webhook-load'

const ingestTimeoutMs = 1_000

let postgres: RunningPostgres
let service: RunningService
let zapId: string

beforeAll(async () => {
  postgres = await startPostgres()
  const sql = connect(postgres.url, { max: 1 })
  await migrate(sql)
  const user = await createUser(sql, { email: 'outage@example.com', name: 'Outage', passwordHash: 'x' })
  zapId = (await createZap(sql, user!.id, { name: 'outage', steps: [{ type: 'log', config: { message: 'hi' } }] })).id
  await sql.end()
  service = await startService('hooks', { DATABASE_URL: postgres.url, INGEST_TIMEOUT_MS: String(ingestTimeoutMs) })
}, 60_000)

afterAll(async () => {
  postgres?.thaw()
  await service?.stop()
  await postgres?.stop()
}, 30_000)

const post = (key: string) =>
  fetch(`${service.url}/hooks/${zapId}`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json', 'idempotency-key': key } })

/** The response, its error code and how long it took. */
async function timed(request: Promise<Response>) {
  const startedAt = performance.now()
  const response = await request
  const body = (await response.json()) as { error?: { code: string } }
  return { status: response.status, code: body.error?.code, retryAfter: response.headers.get('retry-after'), ms: performance.now() - startedAt }
}

async function storedKeys() {
  const sql = connect(postgres.url, { max: 1 })
  try {
    return (await sql<{ key: string }[]>`select idempotency_key as key from runs order by key`).map((row) => row.key)
  } finally {
    await sql.end()
  }
}

const answeredWithin = ingestTimeoutMs + 1_500

test('with PostgreSQL stopped hooks answers 503 with Retry-After at once, never 2xx, and recovers without a restart', async () => {
  expect((await post('stopped-before')).status).toBe(202)
  await postgres.pause()
  const down = await timed(post('stopped-down'))
  expect(down).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: '2' })
  expect(down.ms).toBeLessThan(answeredWithin)
  const ready = await timed(fetch(`${service.url}/readyz`))
  expect(ready.status).toBe(503)
  expect(ready.ms).toBeLessThan(1_000)
  expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
  await postgres.resume()
  await waitUntil(async () => (await post('stopped-after')).status === 202, 'hooks to accept again after PostgreSQL is back')
  expect(await storedKeys()).toEqual(['stopped-after', 'stopped-before'])
  // Log lines reach the output within 250 ms.
  await waitUntil(() => service.output().includes('database unreachable'), 'hooks to log that the database went away')
  await waitUntil(() => service.output().includes('database reachable again'), 'hooks to log that the database is back')
  expect(service.output().match(/database unreachable/g)).toHaveLength(1)
}, 60_000)

for (const fault of ['stopped', 'frozen'] as const) {
  test(`once its readiness check has seen PostgreSQL ${fault}, hooks answers a steady load 503 at once, not at the ingest deadline`, async () => {
    if (fault === 'stopped') await postgres.pause()
    else postgres.freeze()
    let answers: WebhookAnswer[] = []
    try {
      await waitUntil(async () => (await fetch(`${service.url}/readyz`)).status === 503, 'the readiness check to see the outage')
      // The check has logged the outage once it reports it: from then on every webhook is refused without waiting.
      await waitUntil(() => service.output().split('database unreachable').length > outagesLogged(), 'hooks to log the outage')
      const load = startWebhookLoad(`${service.url}/hooks/${zapId}`, { perSecond: 200, prefix: `refused-${fault}` })
      await Bun.sleep(2_000)
      answers = await load.stop()
    } finally {
      if (fault === 'stopped') await postgres.resume()
      else postgres.thaw()
    }
    expect(answers.length).toBeGreaterThan(200)
    expect(answers.filter((answer) => answer.status !== 503 || answer.code !== 'database_unavailable')).toEqual([])
    // Far under the 1 s deadline a query waits out when nothing answers (generous for a loaded machine).
    const byTime = answers.map((answer) => answer.ms).sort((a, b) => a - b)
    expect(byTime[Math.floor(byTime.length / 2)]!).toBeLessThan(ingestTimeoutMs / 4)
    await waitUntil(async () => (await post(`refused-${fault}-after`)).status === 202, 'hooks to accept again after PostgreSQL is back')
    expect((await storedKeys()).filter((key) => key.startsWith(`refused-${fault}`))).toEqual([`refused-${fault}-after`])
  }, 60_000)
}

const outagesLogged = () => service.output().split('database reachable again').length

test('a webhook whose statement finishes only after its 503 is rolled back, never stored', async () => {
  const sql = connect(postgres.url, { max: 1 })
  await sql.begin(async (tx) => {
    await tx`lock table runs in access exclusive mode`
    const held = await timed(post('locked'))
    expect(held).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: '2' })
    expect(held.ms).toBeLessThan(answeredWithin)
    // The insert still waits for the lock (statements may run twice the deadline): it runs once this commits.
  })
  await sql.end()
  expect((await post('after-lock')).status).toBe(202)
  await Bun.sleep(ingestTimeoutMs)
  expect(await storedKeys()).not.toContain('locked')
}, 60_000)

test('with PostgreSQL frozen (connections open, nothing answers) webhooks and /readyz answer 503 in time, and none is stored after it thaws', async () => {
  expect((await post('frozen-before')).status).toBe(202)
  postgres.freeze()
  try {
    const answers = await Promise.all(Array.from({ length: 8 }, (_, index) => timed(post(`frozen-${index}`))))
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: '2' })
      expect(answer.ms).toBeLessThan(answeredWithin)
    }
    const ready = await timed(fetch(`${service.url}/readyz`))
    expect(ready.status).toBe(503)
    expect(ready.ms).toBeLessThan(1_000)
  } finally {
    postgres.thaw()
  }
  await waitUntil(async () => (await post('frozen-after')).status === 202, 'hooks to accept again after PostgreSQL thaws')
  // Whatever the frozen server had received runs now: the transactions must roll back, not commit.
  await Bun.sleep(ingestTimeoutMs)
  const stored = await storedKeys()
  expect(stored.filter((key) => /^frozen-\d$/.test(key))).toEqual([])
  expect(stored).toContain('frozen-after')
}, 60_000)

test('past INGEST_MAX_PENDING webhooks waiting for the database, more are answered 503 overloaded at once and not stored', async () => {
  // Both pending webhooks go in one batch: the bound counts webhooks, not statements.
  const bounded = await startService('hooks', { DATABASE_URL: postgres.url, INGEST_TIMEOUT_MS: '5000', INGEST_MAX_PENDING: '2', INGEST_BATCH_SIZE: '2', INGEST_BATCH_MS: '4000' })
  const sql = connect(postgres.url, { max: 1 })
  try {
    const postTo = (key: string) =>
      timed(fetch(`${bounded.url}/hooks/${zapId}`, { method: 'POST', body: '{}', headers: { 'content-type': 'application/json', 'idempotency-key': key } }))
    let waiting: Promise<unknown>[] = []
    await sql.begin(async (tx) => {
      await tx`lock table runs in access exclusive mode`
      waiting = [postTo('pending-1'), postTo('pending-2')]
      await waitUntil(async () => (await tx`select count(*)::int as n from pg_locks where relation = 'runs'::regclass and not granted`)[0]!.n === 1, 'both webhooks to wait for the lock in one statement')
      const over = await postTo('pending-3')
      expect(over).toMatchObject({ status: 503, code: 'overloaded', retryAfter: '2' })
      expect(over.ms).toBeLessThan(1_000)
    })
    expect(await Promise.all(waiting)).toMatchObject([{ status: 202 }, { status: 202 }])
    expect((await storedKeys()).filter((key) => key.startsWith('pending-'))).toEqual(['pending-1', 'pending-2'])
  } finally {
    await sql.end()
    await bounded.stop()
  }
}, 60_000)
