import { afterAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { waitUntil } from '@zap/testkit/services'
import { signedUpUser, startStack } from '@zap/testkit/cli'
import { pruneFinishedRuns } from '@zap/sql/retention'
import { createLogger } from '@zap/lib/log'
import { startRetention } from './retention.ts'

const log = createLogger('retention-test', { level: 'silent', pretty: false })
const policy = { days: 30, failedDays: 60 }
const stack = startStack()

afterAll(async () => {
  await (await stack).stop()
})

/** A run accepted through hooks, then set to `status` and finished `daysAgo` days ago, with a step and a history row. */
async function finishedRun(zapId: string, status: 'succeeded' | 'failed' | 'debounced' | 'running', daysAgo: number) {
  const { body } = await call(hooks, 'POST', `/hooks/${zapId}`, { body: { n: 1 } })
  const runId: string = body.runId
  await sql`delete from outbox where run_id = ${runId}`
  await sql`
    update runs set status = ${status}, created_at = now() - make_interval(days => ${daysAgo + 1}),
      finished_at = ${status === 'running' ? null : sql`now() - make_interval(days => ${daysAgo})`}
    where id = ${runId}`
  await sql`insert into run_steps (run_id, index, type, status, attempts, finished_at) values (${runId}, 0, 'log', ${status === 'running' ? 'retrying' : status === 'debounced' ? 'skipped' : status}, 1, now())`
  await sql`insert into run_history (run_id, replay, version, from_step, cause, status, steps) values (${runId}, 0, 1, 0, 'manual', 'failed', '[]')`
  return runId
}

const remaining = async (runIds: string[]) => {
  const rows = await sql<{ id: string }[]>`select id from runs where id in ${sql(runIds)}`
  return new Set(rows.map((row) => row.id))
}

describe('run retention', () => {
  test('deletes finished runs past their window with their steps and history; keeps recent ones, failed ones inside their window and unfinished ones', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const shortZap = await createZap(token, { retentionDays: 2 })
    const runs = {
      oldSucceeded: await finishedRun(zap.id, 'succeeded', 31),
      recentSucceeded: await finishedRun(zap.id, 'succeeded', 29),
      failedInWindow: await finishedRun(zap.id, 'failed', 45),
      oldFailed: await finishedRun(zap.id, 'failed', 61),
      oldRunning: await finishedRun(zap.id, 'running', 400),
      oldDebounced: await finishedRun(zap.id, 'debounced', 31),
      shortOld: await finishedRun(shortZap.id, 'succeeded', 3),
      shortOldFailed: await finishedRun(shortZap.id, 'failed', 3),
      shortRecent: await finishedRun(shortZap.id, 'succeeded', 1),
    }
    const retention = startRetention({ sql, policy, batchSize: 2, intervalMs: 60_000, pauseMs: 1, log })
    try {
      await waitUntil(async () => !(await remaining(Object.values(runs))).has(runs.shortOldFailed), 'the prune to reach the last old run')
    } finally {
      await retention.stop()
    }
    const kept = await remaining(Object.values(runs))
    expect(Object.fromEntries(Object.entries(runs).map(([name, id]) => [name, kept.has(id)]))).toEqual({
      oldSucceeded: false,
      recentSucceeded: true,
      failedInWindow: true,
      oldFailed: false,
      oldRunning: true,
      oldDebounced: false,
      shortOld: false,
      shortOldFailed: false,
      shortRecent: true,
    })
    const pruned = [runs.oldSucceeded, runs.oldFailed, runs.oldDebounced, runs.shortOld, runs.shortOldFailed]
    const [leftovers] = await sql<{ steps: number; history: number }[]>`
      select (select count(*) from run_steps where run_id in ${sql(pruned)})::int as steps,
        (select count(*) from run_history where run_id in ${sql(pruned)})::int as history`
    expect(leftovers).toEqual({ steps: 0, history: 0 })
    expect((await call(api, 'GET', `/api/v1/runs/${runs.oldSucceeded}`, { token })).status).toBe(404)
    expect((await call(api, 'GET', `/api/v1/runs/${runs.recentSucceeded}`, { token })).status).toBe(200)
  })

  test('ended target pauses and rate-limit buckets unused for over a day are deleted; current ones are kept', async () => {
    const { user } = await signUp()
    await sql`insert into target_pauses (user_id, host, until, reason) values
      (${user.id}, 'ended.example', now() - interval '1 minute', '429'), (${user.id}, 'current.example', now() + interval '1 hour', '429')`
    await sql`insert into target_rate_limits (user_id, bucket, turns, sent) values
      (${user.id}, 'idle', array[now() - interval '3 days'], array[now() - interval '2 days']),
      (${user.id}, 'empty', '{}', '{}'),
      (${user.id}, 'busy', array[now() - interval '3 days', now() - interval '1 hour'], array[now() - interval '3 days'])`
    const retention = startRetention({ sql, policy, batchSize: 1, intervalMs: 60_000, pauseMs: 1, log })
    const left = async () => ({
      pauses: (await sql<{ host: string }[]>`select host from target_pauses where user_id = ${user.id} order by host`).map((row) => row.host),
      buckets: (await sql<{ bucket: string }[]>`select bucket from target_rate_limits where user_id = ${user.id} order by bucket`).map((row) => row.bucket),
    })
    try {
      await waitUntil(async () => (await left()).buckets.length === 1 && (await left()).pauses.length === 1, 'the prune to reach the expired flow-control rows')
    } finally {
      await retention.stop()
    }
    expect(await left()).toEqual({ pauses: ['current.example'], buckets: ['busy'] })
  })

  test('one process prunes at a time: while another holds the lock, a prune does nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const old = await finishedRun(zap.id, 'succeeded', 40)
    let release = () => {}
    const held = new Promise<void>((resolve) => (release = resolve))
    let locked = () => {}
    const holding = new Promise<void>((resolve) => (locked = resolve))
    const holder = sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${0x7a61_7001})`
      locked()
      await held
    })
    await holding
    try {
      expect(await pruneFinishedRuns(sql, policy, 100)).toBeNull()
      expect((await remaining([old])).has(old)).toBe(true)
    } finally {
      release()
      await holder
    }
    expect(await pruneFinishedRuns(sql, policy, 100)).toBeGreaterThanOrEqual(1)
    expect((await remaining([old])).has(old)).toBe(false)
  })

  test('retentionDays is set, shown, cleared and bounded through the API', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { retentionDays: 7 })
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })).body.zap.retentionDays).toBe(7)
    expect((await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { retentionDays: null } })).body.zap.retentionDays).toBeNull()
    for (const retentionDays of [0, 3651, 1.5, '7']) {
      const refused = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { retentionDays } })
      expect(refused.status).toBe(400)
      expect(refused.body.error.message).toContain('retentionDays')
    }
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })).body.zap.retentionDays).toBeNull()
  })

  test('zap zaps create and edit take --retention-days, and zaps show says it', async () => {
    const user = await signedUpUser((await stack).apiUrl)
    const created = await user.zapJson(['zaps', 'create', '--name', 'Short', '--step', 'log:{"message":"hi"}', '--retention-days', '3'])
    expect(created.retentionDays).toBe(3)
    const edited = await user.zapJson(['zaps', 'edit', created.id, '--retention-days', '9'])
    expect(edited.retentionDays).toBe(9)
    expect((await user.zap(['zaps', 'show', created.id])).stdout).toContain('finished runs kept 9 days')
    const refused = await user.zap(['zaps', 'edit', created.id, '--retention-days', 'soon'])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain('--retention-days takes a whole number of days')
  }, 60_000)
})
