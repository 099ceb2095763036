import type { Sql, TransactionSql } from 'postgres'
import type { Step } from '@zap/lib/steps'
import type { RunStatus, RunStepStatus, Trigger } from '@zap/lib/resources'
import type { Concurrency } from '@zap/lib/flow'
import { triggerOfRun } from './runs.ts'
import { wakeParkedRuns, type FlowWait } from './flow.ts'

export type StepStatus = Exclude<RunStepStatus, 'pending'>

export type RecordedStep = { index: number; status: StepStatus; attempts: number; output: unknown }

export type StepContext = {
  zapId: string
  userId: string
  concurrency: Concurrency | null
  concurrencyKey: string | null
  wait: FlowWait | null
  pauses: { host: string; until: string; reason: string }[] | null
  status: RunStatus
  replay: number
  autoReplay: boolean
  autoReplays: number
  steps: Step[]
  trigger: Trigger
  recorded: RecordedStep[]
}

/** The steps recorded so far for run `r`, in order, as a JSON array. */
export const recordedStepsOfRun = (sql: Sql) => sql`
  coalesce((
    select json_agg(json_build_object('index', s.index, 'status', s.status, 'attempts', s.attempts, 'output', s.output) order by s.index)
    from run_steps s where s.run_id = r.id
  ), '[]')`

/** Everything a worker needs to run a step of each of these runs, in one round trip, by run id (a run that is gone is absent). */
export async function loadStepContexts(sql: Sql, runIds: string[]) {
  const rows = await sql<(StepContext & { runId: string })[]>`
    select r.id as "runId", r.zap_id as "zapId", r.user_id as "userId", z.concurrency, r.concurrency_key as "concurrencyKey",
      (select row_to_json(w) from (select kind, reason, until, until <= clock_timestamp() + interval '50 milliseconds' as due, deferrals from flow_waits where run_id = r.id) w) as wait,
      (select json_agg(json_build_object('host', p.host, 'until', p.until, 'reason', p.reason)) from target_pauses p
        where p.user_id = r.user_id and p.until > now()) as pauses,
      r.status, r.replay, r.auto_replays as "autoReplays", z.auto_replay as "autoReplay", v.steps,
      ${triggerOfRun(sql)} as trigger, ${recordedStepsOfRun(sql)} as recorded
    from runs r
    join zaps z on z.id = r.zap_id
    join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
    where r.id = any(${runIds}::uuid[])`
  return new Map(rows.map(({ runId, ...context }) => [runId, context as StepContext]))
}

export type StepRecord = {
  runId: string
  stepIndex: number
  type: string
  attempt: number
  status: Exclude<StepStatus, 'skipped'>
  input: unknown
  output: unknown
  error: string | null
  startedAt: Date
  next: { stepIndex: number; attempt: number; availableAt: Date; replay: number } | null
  runStatus: RunStatus
  skipRemaining?: { through: number; reason: string }
}

// An attempt replaces a recorded one only while that one waits (retrying, waiting) for a later attempt:
// a redelivered attempt changes nothing, alone or in a batch.
const newerAttemptsOnly = (sql: Sql | TransactionSql) => sql`
  on conflict (run_id, index) do update set
    status = excluded.status, attempts = excluded.attempts, input = excluded.input, output = excluded.output,
    error = excluded.error, finished_at = excluded.finished_at
  where run_steps.status in ('retrying', 'waiting') and run_steps.attempts < excluded.attempts`

/**
 * Records an attempt and what follows it (the next outbox row and the run's status) in one
 * statement. Returns false when the step was already recorded by an earlier delivery.
 */
export async function recordStepAttempt(sql: Sql | TransactionSql, record: StepRecord) {
  const final = record.runStatus === 'succeeded' || record.runStatus === 'failed'
  const [row] = await sql<{ recorded: boolean }[]>`
    with step as (
      insert into run_steps (run_id, index, type, status, attempts, input, output, error, started_at, finished_at)
      values (${record.runId}, ${record.stepIndex}, ${record.type}, ${record.status}, ${record.attempt},
        ${json(sql, record.input)}, ${json(sql, record.output)}, ${record.error}, ${record.startedAt},
        ${record.status === 'retrying' || record.status === 'waiting' ? null : new Date()})
      ${newerAttemptsOnly(sql)}
      returning run_id
    ), queued as (
      insert into outbox (run_id, step_index, attempt, replay, available_at)
      select run_id, ${record.next?.stepIndex ?? 0}, ${record.next?.attempt ?? 1}, ${record.next?.replay ?? 0}, ${record.next?.availableAt ?? new Date()}
      from step where ${record.next !== null}
    ), skipped as (
      insert into run_steps (run_id, index, type, status, error, finished_at)
      select run_id, index, v.steps -> index ->> 'type', 'skipped', ${record.skipRemaining?.reason ?? null}, now()
      from step
      cross join generate_series(${record.stepIndex + 1}::int, ${record.skipRemaining?.through ?? -1}::int) as index
      join runs r on r.id = step.run_id
      join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
      on conflict do nothing
    ), run as (
      update runs set status = ${record.runStatus}, started_at = coalesce(started_at, ${record.startedAt}),
        finished_at = ${final ? new Date() : null}
      where id in (select run_id from step) and status in ('queued', 'running')
    )
    select exists (select 1 from step) as recorded`
  return row!.recorded
}

/**
 * Records many attempts as `recordStepAttempt` does each, in as few statements as it can (one per
 * attempt of the same run), in the given order; answers whether each was recorded.
 */
export async function recordStepAttempts(sql: Sql, records: StepRecord[]): Promise<boolean[]> {
  const recorded: boolean[] = []
  for (let rest = records.map((record, ord) => ({ record, ord })); rest.length > 0; ) {
    // One attempt per run in a statement: a row may be changed only once by it.
    const runs = new Set<string>()
    const round: typeof rest = []
    const later: typeof rest = []
    for (const entry of rest) {
      if (runs.has(entry.record.runId)) later.push(entry)
      else round.push(entry), runs.add(entry.record.runId)
    }
    rest = later
    const done = await recordRound(sql, round.map(({ record }) => record))
    for (const { record, ord } of round) recorded[ord] = done.has(record.runId)
  }
  return recorded
}

async function recordRound(sql: Sql, records: StepRecord[]) {
  const rows = records.map((record) => ({
    run_id: record.runId,
    index: record.stepIndex,
    type: record.type,
    status: record.status,
    attempts: record.attempt,
    input: record.input ?? null,
    output: record.output ?? null,
    error: record.error,
    started_at: record.startedAt,
    finishes: record.status !== 'retrying' && record.status !== 'waiting',
    next_index: record.next?.stepIndex ?? null,
    next_attempt: record.next?.attempt ?? null,
    next_replay: record.next?.replay ?? null,
    next_at: record.next?.availableAt ?? null,
    run_status: record.runStatus,
    run_ends: record.runStatus === 'succeeded' || record.runStatus === 'failed',
    skip_through: record.skipRemaining?.through ?? -1,
    skip_reason: record.skipRemaining?.reason ?? null,
  }))
  const done = await sql<{ runId: string }[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(rows as never)}) as i(
        run_id uuid, index integer, type text, status text, attempts integer, input jsonb, output jsonb, error text,
        started_at timestamptz, finishes boolean, next_index integer, next_attempt integer, next_replay integer,
        next_at timestamptz, run_status text, run_ends boolean, skip_through integer, skip_reason text)
    ), step as (
      insert into run_steps (run_id, index, type, status, attempts, input, output, error, started_at, finished_at)
      select run_id, index, type, status, attempts, input, output, error, started_at, case when finishes then now() end
      from input
      order by run_id
      ${newerAttemptsOnly(sql)}
      returning run_id
    ), queued as (
      insert into outbox (run_id, step_index, attempt, replay, available_at)
      select i.run_id, i.next_index, i.next_attempt, i.next_replay, i.next_at
      from input i join step s on s.run_id = i.run_id
      where i.next_index is not null
    ), skipped as (
      insert into run_steps (run_id, index, type, status, error, finished_at)
      select i.run_id, later.index, v.steps -> later.index ->> 'type', 'skipped', i.skip_reason, now()
      from input i
      join step s on s.run_id = i.run_id
      cross join lateral generate_series(i.index + 1, i.skip_through) as later(index)
      join runs r on r.id = i.run_id
      join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
      on conflict do nothing
    ), run as (
      update runs r set status = i.run_status, started_at = coalesce(r.started_at, i.started_at),
        finished_at = case when i.run_ends then now() end
      from input i join step s on s.run_id = i.run_id
      where r.id = i.run_id and r.status in ('queued', 'running')
    )
    select run_id as "runId" from step`
  return new Set(done.map((row) => row.runId))
}

const json = (sql: Pick<Sql, 'json'>, value: unknown) => (value === undefined || value === null ? null : sql.json(value as never))

/** The last resort when a step cannot be executed or recorded at all: the run fails with the reason (false when it had already ended). */
export async function failRunOnInternalError(sql: Sql, runId: string, stepIndex: number, type: string, error: string) {
  const failed = await sql.begin(async (tx) => {
    await tx`
      insert into run_steps (run_id, index, type, status, attempts, error, started_at, finished_at)
      values (${runId}, ${stepIndex}, ${type}, 'failed', 1, ${error}, now(), now())
      on conflict (run_id, index) do update set status = 'failed', error = excluded.error, finished_at = now()
      where run_steps.status in ('retrying', 'waiting')`
    const updated = await tx`update runs set status = 'failed', finished_at = now() where id = ${runId} and status in ('queued', 'running')`
    return updated.count > 0
  })
  // Its concurrency slot is free now: the runs parked behind it need not wait for their recheck.
  const [queue] = await sql<{ zapId: string; key: string; limit: number }[]>`
    select r.zap_id as "zapId", r.concurrency_key as key, (z.concurrency->>'limit')::int as limit
    from runs r join zaps z on z.id = r.zap_id
    where r.id = ${runId} and r.concurrency_key is not null and z.concurrency is not null`
  if (queue) await wakeParkedRuns(sql, queue)
  return failed
}
