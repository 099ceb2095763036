import type { Sql, TransactionSql } from 'postgres'
import type { StepMessage } from '@zap/lib/messages'
import { maxRateLimitPeriodSeconds } from '@zap/lib/flow'

export type WaitKind = 'concurrency' | 'rate_limit' | 'paused' | 'fair_share'

/** A wait as a step's context carries it: `due` once its time has come. */
export type FlowWait = { kind: WaitKind; reason: string; until: string; due: boolean; deferrals: number }

export type Deferral = { kind: WaitKind; reason: string; until: Date; zapId: string; concurrencyKey: string | null }

export type ConcurrencySlot = { runId: string; zapId: string; key: string; limit: number }

/** How long a run parked for a concurrency slot sleeps before it looks again, if no finishing run wakes it first. */
const concurrencyRecheckMs = 30_000

/**
 * A run may execute while it is one of the `limit` oldest unfinished runs of its zap with its key,
 * so runs start in the order they arrived. Otherwise its step is parked until a finishing run
 * wakes it (or the recheck time). Returns whether the run may go on.
 */
export async function admitRun(sql: Sql, slot: ConcurrencySlot, message: StepMessage) {
  return sql.begin(async (tx) => {
    await lockQueue(tx, slot)
    // Read in one statement: a run cancelled with its zap frees the slot of the runs cancelled beside it, never theirs to take.
    const [row] = await tx<{ ahead: number; live: boolean }[]>`
      select count(*)::int as ahead, coalesce((select status in ('queued', 'running') from runs where id = ${slot.runId}), false) as live from (
        select 1 from runs o join runs r on r.id = ${slot.runId}
        where o.zap_id = r.zap_id and o.concurrency_key = r.concurrency_key and o.status in ('queued', 'running')
          and (o.created_at, o.id) < (r.created_at, r.id)
        limit ${slot.limit}
      ) earlier`
    if (!row!.live) return false
    const ahead = row!.ahead
    if (ahead < slot.limit) {
      await tx`delete from flow_waits where run_id = ${slot.runId}`
      return true
    }
    const keyNote = slot.key === '' ? '' : ` for key "${slot.key}"`
    await deferStep(tx, message, {
      kind: 'concurrency',
      reason: `Waiting for a concurrency slot: limit ${slot.limit}${keyNote}, ${ahead} earlier run${ahead === 1 ? '' : 's'} not finished`,
      until: new Date(Date.now() + concurrencyRecheckMs),
      zapId: slot.zapId,
      concurrencyKey: slot.key,
    })
    return false
  })
}

/** After a run with a concurrency key ended: the oldest parked runs of its queue look again now. */
export async function wakeParkedRuns(sql: Sql, slot: Omit<ConcurrencySlot, 'runId'>) {
  await sql.begin(async (tx) => {
    await lockQueue(tx, slot)
    await tx`
      update outbox set available_at = now()
      where run_id in (
        select w.run_id from flow_waits w join runs r on r.id = w.run_id
        where w.zap_id = ${slot.zapId} and w.concurrency_key = ${slot.key} and w.kind = 'concurrency'
        order by r.created_at, r.id
        limit ${slot.limit}
      ) and available_at > now()`
  })
}

/** A step of this user freed a worker slot: its `count` oldest steps waiting for a fair share look again now. Returns how many. */
export async function wakeFairShareRuns(sql: Sql, userId: string, count: number) {
  const woken = await sql`
    update outbox set available_at = now()
    where run_id in (
      select w.run_id from flow_waits w join runs r on r.id = w.run_id
      where w.kind = 'fair_share' and r.user_id = ${userId}
      order by w.since, w.run_id
      limit ${count}
    ) and available_at > now()`
  return woken.count
}

// Parking and waking one queue take turns, so a run never parks just after the wake-up it needed.
const lockQueue = (tx: TransactionSql, slot: { zapId: string; key: string }) =>
  tx`select pg_advisory_xact_lock(hashtextextended(${`concurrency:${slot.zapId}:${slot.key}`}, 0))`

/** Sends the step back through the outbox, due at `until`, and records why the run waits. */
export async function deferStep(sql: Sql | TransactionSql, message: StepMessage, deferral: Deferral) {
  await sql`
    with wait as (
      insert into flow_waits (run_id, kind, reason, zap_id, concurrency_key, until)
      values (${message.runId}, ${deferral.kind}, ${deferral.reason}, ${deferral.zapId}, ${deferral.concurrencyKey}, ${deferral.until})
      on conflict (run_id) do update set
        kind = excluded.kind, reason = excluded.reason, concurrency_key = excluded.concurrency_key, until = excluded.until,
        since = case when flow_waits.kind = excluded.kind then flow_waits.since else now() end,
        deferrals = flow_waits.deferrals + 1
    )
    insert into outbox (run_id, step_index, attempt, replay, available_at)
    values (${message.runId}, ${message.stepIndex}, ${message.attempt}, ${message.replay}, ${deferral.until})`
}

/** `deferStep` for many steps of distinct runs in one statement. */
export async function deferSteps(sql: Sql, steps: { message: StepMessage; deferral: Deferral }[]) {
  const rows = steps.map(({ message, deferral }) => ({
    run_id: message.runId, step_index: message.stepIndex, attempt: message.attempt, replay: message.replay,
    kind: deferral.kind, reason: deferral.reason, zap_id: deferral.zapId, concurrency_key: deferral.concurrencyKey, until: deferral.until.toISOString(),
  }))
  await sql`
    with input as (
      select * from jsonb_to_recordset(${sql.json(rows)}) as x(run_id uuid, step_index int, attempt int, replay int, kind text, reason text, zap_id uuid, concurrency_key text, until timestamptz)
    ), wait as (
      insert into flow_waits (run_id, kind, reason, zap_id, concurrency_key, until)
      select run_id, kind, reason, zap_id, concurrency_key, until from input
      on conflict (run_id) do update set
        kind = excluded.kind, reason = excluded.reason, concurrency_key = excluded.concurrency_key, until = excluded.until,
        since = case when flow_waits.kind = excluded.kind then flow_waits.since else now() end,
        deferrals = flow_waits.deferrals + 1
    )
    insert into outbox (run_id, step_index, attempt, replay, available_at)
    select run_id, step_index, attempt, replay, until from input`
  return steps.map(() => undefined)
}

export async function clearWait(sql: Sql, runId: string) {
  await sql`delete from flow_waits where run_id = ${runId}`
}

/**
 * Counts one request against a rate limit bucket, or says when to ask again: a caller without a
 * turn first gets the next free one (waiting callers are spread out), and a turn is only used once
 * the bucket's actual requests in the last `perSeconds` leave room.
 */
export async function takeRateLimit(sql: Sql, bucket: { userId: string; name: string; requests: number; perSeconds: number }, hasTurn: boolean) {
  const [row] = await sql<{ retryAt: Date | null }[]>`
    select take_rate_limit(${bucket.userId}, ${bucket.name}, ${bucket.requests}, ${bucket.perSeconds} * interval '1 second', ${hasTurn}) as "retryAt"`
  return row!.retryAt
}

/**
 * Deletes up to `batchSize` pauses that have ended and up to `batchSize` rate-limit buckets with no
 * turn or request within the longest period a limit may have (they decide nothing any more).
 * Returns how many rows it deleted.
 */
export async function pruneExpiredFlowControl(sql: Sql, batchSize: number) {
  const pauses = await sql`
    delete from target_pauses where ctid = any(array(
      select ctid from target_pauses where until < now() limit ${batchSize} for update skip locked))`
  const buckets = await sql`
    delete from target_rate_limits where ctid = any(array(
      select ctid from target_rate_limits
      where coalesce(greatest(turns[array_upper(turns, 1)], sent[array_upper(sent, 1)]), '-infinity') < now() - ${maxRateLimitPeriodSeconds + 60} * interval '1 second'
      limit ${batchSize} for update skip locked))`
  return pauses.count + buckets.count
}

/** Every step of this user to `host` waits until `until` (a later pause wins). */
export async function pauseTarget(sql: Sql, userId: string, host: string, until: Date, reason: string) {
  await sql`
    insert into target_pauses (user_id, host, until, reason) values (${userId}, ${host}, ${until}, ${reason})
    on conflict (user_id, host) do update set until = excluded.until, reason = excluded.reason
    where target_pauses.until < excluded.until`
}

/** The wait of run `r` as the API shows it, a lateral subquery with the column `wait`. */
export const waitOfRun = (sql: Sql) => sql`
  (select json_build_object('kind', f.kind, 'reason', f.reason, 'since', f.since, 'until', f.until) as wait
   from flow_waits f where f.run_id = r.id)`

/**
 * A lease on a step that is still running after its Kafka offset moved on: the row brings the step
 * back at `until` if this worker dies first. Dropped once the attempt is recorded.
 */
export async function leaseStep(sql: Sql, message: StepMessage, until: Date) {
  const [row] = await sql<{ id: string }[]>`
    insert into outbox (run_id, step_index, attempt, replay, available_at)
    values (${message.runId}, ${message.stepIndex}, ${message.attempt}, ${message.replay}, ${until})
    returning id`
  return row!.id
}

export async function dropLease(sql: Sql, leaseId: string) {
  await sql`delete from outbox where id = ${leaseId}`
}
