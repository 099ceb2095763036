import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { newId } from '@zap/lib/ids'
import { createLogger } from '@zap/lib/log'
import { startPostgres, type RunningPostgres } from '@zap/testkit/postgres'
import { waitUntil } from '@zap/testkit/services'
import { startReconciler } from './reconciler.ts'

// A server of its own: the reconciler looks at every run in the database, and other tests leave runs behind.
let postgres: RunningPostgres
let sql: Sql
let userId: string
let zapId: string
const log = createLogger('reconciler-test', { level: 'silent', pretty: false })
const running: { stop: () => Promise<void> }[] = []

beforeAll(async () => {
  postgres = await startPostgres()
  sql = connect(postgres.url, { max: 4 })
  await migrate(sql)
  userId = (await createUser(sql, { email: 'reconcile@example.com', name: 'Reconcile', passwordHash: 'x' }))!.id
  zapId = (await createZap(sql, userId, { name: 'three steps', steps: [1, 2, 3].map((n) => ({ type: 'log', config: { message: `step ${n}` } })) })).id
}, 60_000)

afterEach(async () => {
  await Promise.all(running.splice(0).map((reconciler) => reconciler.stop()))
  await sql`delete from runs`
})

afterAll(async () => {
  await sql?.end()
  await postgres?.stop()
}, 30_000)

const quietSeconds = 2

/** A run in `status`, created `ageSeconds` ago, with these recorded steps and no outbox row. */
async function run(status: 'queued' | 'running', ageSeconds: number, steps: { status: string; attempts: number; output?: unknown; finishedAgoSeconds?: number }[] = []) {
  const id = newId()
  await sql`
    insert into runs (id, zap_id, user_id, version, status, created_at, started_at)
    values (${id}, ${zapId}, ${userId}, 1, ${status}, now() - ${ageSeconds} * interval '1 second', ${status === 'running' ? sql`now() - ${ageSeconds} * interval '1 second'` : null})`
  for (const [index, step] of steps.entries()) {
    await sql`
      insert into run_steps (run_id, index, type, status, attempts, output, started_at, finished_at)
      values (${id}, ${index}, 'log', ${step.status}, ${step.attempts}, ${step.output ? sql.json(step.output as never) : null},
        now() - ${step.finishedAgoSeconds ?? ageSeconds} * interval '1 second', now() - ${step.finishedAgoSeconds ?? ageSeconds} * interval '1 second')`
  }
  return id
}

const outboxOf = async (runId: string) => [
  ...(await sql<{ stepIndex: number; attempt: number; due: boolean }[]>`
    select step_index as "stepIndex", attempt, available_at <= now() as due from outbox where run_id = ${runId} order by id`),
]

function reconcile() {
  const reconciler = startReconciler({ sql, quietSeconds, log })
  running.push(reconciler)
  return reconciler
}

test('a run queued or running with no outbox row and nothing recorded past the bound gets a row for the step it was at', async () => {
  const queued = await run('queued', 10)
  const between = await run('running', 10, [{ status: 'succeeded', attempts: 1 }])
  const retrying = await run('running', 10, [{ status: 'retrying', attempts: 2 }])
  reconcile()
  await waitUntil(async () => (await sql`select count(*)::int as n from outbox`)[0]!.n === 3, 'three runs to be handed over')
  expect(await outboxOf(queued)).toEqual([{ stepIndex: 0, attempt: 1, due: true }])
  expect(await outboxOf(between)).toEqual([{ stepIndex: 1, attempt: 1, due: true }])
  expect(await outboxOf(retrying)).toEqual([{ stepIndex: 0, attempt: 3, due: true }])
})

test('a run waiting on a delay or a retry (a delayed outbox row), a recent run and one with recent progress are left alone', async () => {
  const delayed = await run('running', 10, [{ status: 'retrying', attempts: 1 }])
  await sql`insert into outbox (run_id, step_index, attempt, available_at) values (${delayed}, 0, 2, now() + interval '1 hour')`
  const recent = await run('queued', 0)
  const progressing = await run('running', 30, [{ status: 'succeeded', attempts: 1, finishedAgoSeconds: 0 }])
  const finished = await run('running', 10)
  await sql`update runs set status = 'succeeded', finished_at = now() where id = ${finished}`
  const reconciler = reconcile()
  await Bun.sleep(1_500)
  expect(reconciler.problem()).toBeNull()
  expect(await outboxOf(delayed)).toEqual([{ stepIndex: 0, attempt: 2, due: false }])
  expect(await outboxOf(recent)).toEqual([])
  expect(await outboxOf(progressing)).toEqual([])
  expect(await outboxOf(finished)).toEqual([])
})

test('a step waiting for a delay whose row was lost gets its row back, due when the delay ends', async () => {
  const until = new Date(Date.now() + 3_600_000).toISOString()
  const waiting = await run('running', 10, [{ status: 'waiting', attempts: 1, output: { until } }])
  reconcile()
  await waitUntil(async () => (await outboxOf(waiting)).length === 1, 'the waiting run to be handed over')
  expect(await outboxOf(waiting)).toEqual([{ stepIndex: 0, attempt: 2, due: false }])
})

test('two reconcilers at once hand each stranded run over once', async () => {
  const stranded = await Promise.all(Array.from({ length: 50 }, () => run('queued', 10)))
  reconcile()
  reconcile()
  await waitUntil(async () => (await sql`select count(*)::int as n from outbox`)[0]!.n >= 50, 'every stranded run to be handed over')
  await Bun.sleep(300)
  const rows = await sql<{ runId: string }[]>`select run_id as "runId" from outbox`
  expect(rows.map((row) => row.runId).sort()).toEqual([...stranded].sort())
})

test('a run handed over and relayed is not handed over again by the same reconciler within the bound, and is after it', async () => {
  const stranded = await run('queued', 10)
  reconcile()
  await waitUntil(async () => (await outboxOf(stranded)).length === 1, 'the run to be handed over')
  // Relayed and on its way through a slow broker: nothing recorded yet.
  await sql`delete from outbox`
  await Bun.sleep(quietSeconds * 1000 - 500)
  expect(await outboxOf(stranded)).toEqual([])
  await waitUntil(async () => (await outboxOf(stranded)).length === 1, 'the run to be handed over again after the bound', 5_000)
})
