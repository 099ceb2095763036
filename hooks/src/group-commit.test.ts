import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from '@zap/testkit/postgres'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'

// A batch is flushed when it holds `batchSize` webhooks, long before its window ends: every test sends exactly that many at once.
const batchSize = 8
const ingestTimeoutMs = 4_000

let postgres: RunningPostgres
let service: RunningService
let sql: Sql
let zapId: string
let disabledZapId: string

beforeAll(async () => {
  postgres = await startPostgres()
  sql = connect(postgres.url, { max: 2 })
  await migrate(sql)
  const user = await createUser(sql, { email: 'batch@example.com', name: 'Batch', passwordHash: 'x' })
  const steps = [{ type: 'log' as const, config: { message: 'hi' } }]
  zapId = (await createZap(sql, user!.id, { name: 'batched', steps })).id
  disabledZapId = (await createZap(sql, user!.id, { name: 'disabled', steps, enabled: false })).id
  service = await startService('hooks', {
    DATABASE_URL: postgres.url,
    INGEST_TIMEOUT_MS: String(ingestTimeoutMs),
    INGEST_BATCH_MS: '2000',
    INGEST_BATCH_SIZE: String(batchSize),
  })
}, 60_000)

afterAll(async () => {
  postgres?.thaw()
  await service?.stop()
  await sql?.end({ timeout: 1 }).catch(() => {})
  await postgres?.stop()
}, 30_000)

type Webhook = { key: string; zap?: string; body?: unknown }
type Answer = { status: number; runId?: string; duplicate?: boolean; code?: string }

/** Sends the webhooks at once and returns each answer, in the order given. */
function postTogether(webhooks: Webhook[]): Promise<Answer[]> {
  expect(webhooks).toHaveLength(batchSize)
  return Promise.all(webhooks.map(async ({ key, zap = zapId, body = { key } }) => {
    const response = await fetch(`${service.url}/hooks/${zap}`, {
      method: 'POST',
      body: JSON.stringify(body),
      headers: { 'content-type': 'application/json', 'idempotency-key': key },
    })
    const answer = (await response.json()) as { runId?: string; duplicate?: boolean; error?: { code: string } }
    return { status: response.status, runId: answer.runId, duplicate: answer.duplicate, code: answer.error?.code }
  }))
}

/** The stored runs with these keys: id, body, whether an outbox row waits for it, and the transaction that wrote it. */
const storedRuns = (keys: string[]) => sql<{ key: string; id: string; body: unknown; queued: boolean; xmin: string }[]>`
  select r.idempotency_key as key, r.id, r.trigger_body as body, exists (select 1 from outbox o where o.run_id = r.id) as queued, r.xmin::text
  from runs r where r.idempotency_key in ${sql(keys)} order by r.idempotency_key`

test('webhooks arriving together are stored by one transaction, each answered 202 with its own run and outbox row', async () => {
  const keys = Array.from({ length: batchSize }, (_, index) => `together-${index}`)
  const answers = await postTogether(keys.map((key) => ({ key })))
  expect(answers.map((answer) => answer.status)).toEqual(keys.map(() => 202))
  expect(new Set(answers.map((answer) => answer.runId)).size).toBe(batchSize)
  const runs = await storedRuns(keys)
  expect(runs.map((run) => ({ id: run.id, body: run.body, queued: run.queued }))).toEqual(
    keys.map((key, index) => ({ id: answers[index]!.runId!, body: { key }, queued: true })),
  )
  expect(new Set(runs.map((run) => run.xmin)).size).toBe(1)
}, 30_000)

test('duplicates inside a batch and of a stored run resolve to one run each: one 202, the rest 200 with its id; other zaps answer as alone', async () => {
  const [stored] = await postTogether([
    { key: 'stored-before' },
    ...Array.from({ length: batchSize - 1 }, (_, index) => ({ key: `filler-${index}` })),
  ])
  expect(stored!.status).toBe(202)
  const webhooks: Webhook[] = [
    { key: 'twice-in-batch' },
    { key: 'stored-before' },
    { key: 'thrice-in-batch' },
    { key: 'twice-in-batch' },
    { key: 'thrice-in-batch' },
    { key: 'thrice-in-batch' },
    { key: 'to-a-disabled-zap', zap: disabledZapId },
    { key: 'to-an-unknown-zap', zap: Bun.randomUUIDv7() },
  ]
  const answers = await postTogether(webhooks)
  expect(answers[1]).toEqual({ status: 200, runId: stored!.runId, duplicate: true, code: undefined })
  expect(answers.slice(6).map((answer) => [answer.status, answer.code])).toEqual([[409, 'zap_disabled'], [404, 'not_found']])
  const runs = await storedRuns(['twice-in-batch', 'thrice-in-batch', 'stored-before', 'to-a-disabled-zap', 'to-an-unknown-zap'])
  expect(runs.map((run) => run.key)).toEqual(['stored-before', 'thrice-in-batch', 'twice-in-batch'])
  for (const key of ['twice-in-batch', 'thrice-in-batch']) {
    const run = runs.find((each) => each.key === key)!
    const forKey = answers.filter((_, index) => webhooks[index]!.key === key)
    expect(forKey.filter((answer) => answer.status === 202)).toEqual([{ status: 202, runId: run.id, duplicate: undefined, code: undefined }])
    expect(forKey.filter((answer) => answer.status !== 202)).toEqual(forKey.slice(1).map(() => ({ status: 200, runId: run.id, duplicate: true, code: undefined })))
    expect((await sql`select count(*)::int as n from outbox where run_id = ${run.id}`)[0]!.n).toBe(1)
  }
}, 30_000)

test('a row PostgreSQL refuses fails alone: the others of its batch are stored and answered 202', async () => {
  // What a NUL inside a JSON string does on insert, for a body the receiver let through.
  await sql`
    create function refuse_poisoned_run() returns trigger language plpgsql as $$
    begin
      raise exception 'unsupported Unicode escape sequence' using errcode = '22P05';
    end $$`
  await sql`create trigger refuse_poisoned_run before insert on runs for each row when (new.trigger_body ->> 'poisoned' = 'yes') execute function refuse_poisoned_run()`
  try {
    const keys = Array.from({ length: batchSize }, (_, index) => `one-bad-${index}`)
    const answers = await postTogether(keys.map((key, index) => ({ key, body: index === 3 ? { key, poisoned: 'yes' } : { key } })))
    expect(answers.map((answer) => answer.status)).toEqual(keys.map((_, index) => (index === 3 ? 400 : 202)))
    expect(answers[3]!.code).toBe('invalid_body')
    const runs = await storedRuns(keys)
    expect(runs.map((run) => run.id)).toEqual(answers.filter((answer) => answer.status === 202).map((answer) => answer.runId!))
    expect(runs.every((run) => run.queued)).toBe(true)
  } finally {
    await sql`drop trigger refuse_poisoned_run on runs`
    await sql`drop function refuse_poisoned_run()`
  }
}, 30_000)

/** Holds an exclusive lock on runs until `release`, once the batch's insert waits for it. */
async function holdRunsUntilBatchWaits(locker: Sql) {
  let release!: () => void
  let locked!: () => void
  const isLocked = new Promise<void>((resolve) => (locked = resolve))
  const held = locker.begin(async (tx) => {
    await tx`lock table runs in access exclusive mode`
    locked()
    await new Promise<void>((resolve) => (release = resolve))
  })
  await isLocked
  return { held, release: () => release() }
}

const waitingInserts = async () =>
  (await sql<{ n: number }[]>`select count(*)::int as n from pg_locks where relation = 'runs'::regclass and not granted`)[0]!.n

test('a batch whose statement finishes only after the deadline is answered 503 for every webhook and rolled back whole', async () => {
  const locker = connect(postgres.url, { max: 1 })
  const keys = Array.from({ length: batchSize }, (_, index) => `late-${index}`)
  try {
    const lock = await holdRunsUntilBatchWaits(locker)
    const answering = postTogether(keys.map((key) => ({ key })))
    await waitUntil(async () => (await waitingInserts()) === 1, 'the batch insert to wait for the lock, as one statement')
    const answers = await answering
    expect(answers.map((answer) => [answer.status, answer.code])).toEqual(keys.map(() => [503, 'database_unavailable']))
    lock.release()
    await lock.held
  } finally {
    await locker.end()
  }
  await waitUntil(async () => (await waitingInserts()) === 0, 'the late insert to run')
  // It ran once the lock went: its COMMIT was never sent, so it rolled back.
  await Bun.sleep(500)
  expect(await storedRuns(keys)).toHaveLength(0)
}, 30_000)

test('PostgreSQL stopped while a batch is in its statement: every webhook of the batch is 503 and none is stored', async () => {
  const locker = connect(postgres.url, { max: 1 })
  const keys = Array.from({ length: batchSize }, (_, index) => `stopped-${index}`)
  try {
    const lock = await holdRunsUntilBatchWaits(locker)
    lock.held.catch(() => {})
    const answering = postTogether(keys.map((key) => ({ key })))
    await waitUntil(async () => (await waitingInserts()) === 1, 'the batch insert to wait for the lock, as one statement')
    await postgres.pause('immediate')
    const answers = await answering
    expect(answers.map((answer) => answer.status)).toEqual(keys.map(() => 503))
  } finally {
    await locker.end({ timeout: 1 }).catch(() => {})
    await postgres.resume()
  }
  const after = Array.from({ length: batchSize }, (_, index) => `after-stop-${index}`)
  await waitUntil(async () => (await postTogether(after.map((key) => ({ key })))).every((answer) => answer.status < 300), 'hooks to accept again', 30_000)
  expect(await storedRuns(keys)).toHaveLength(0)
}, 60_000)
