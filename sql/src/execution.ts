import type { Sql } from 'postgres'
import type { Step } from '@zap/lib/steps'
import type { RunStatus, Trigger } from './runs.ts'

export type RecordedStep = { index: number; status: 'retrying' | 'succeeded' | 'failed' | 'skipped'; attempts: number; output: unknown }

export type StepContext = { status: RunStatus; steps: Step[]; trigger: Trigger; recorded: RecordedStep[] }

/** Everything a worker needs to run one step of a run, in one round trip. */
export async function loadStepContext(sql: Sql, runId: string) {
  const [run] = await sql<StepContext[]>`
    select r.status, v.steps,
      json_build_object('body', r.trigger_body, 'contentType', r.trigger_content_type,
        'headers', r.trigger_headers, 'query', r.trigger_query) as trigger,
      coalesce((
        select json_agg(json_build_object('index', s.index, 'status', s.status, 'attempts', s.attempts, 'output', s.output) order by s.index)
        from run_steps s where s.run_id = r.id
      ), '[]') as recorded
    from runs r join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
    where r.id = ${runId}`
  return run ?? null
}

export type StepRecord = {
  runId: string
  stepIndex: number
  type: string
  attempt: number
  status: 'retrying' | 'succeeded' | 'failed' | 'skipped'
  input: unknown
  output: unknown
  error: string | null
  startedAt: Date
  next: { stepIndex: number; attempt: number; availableAt: Date } | null
  runStatus: RunStatus
}

/**
 * Records an attempt and what follows it (the next outbox row and the run's status) in one
 * statement. Returns false when the step was already recorded by an earlier delivery.
 */
export async function recordStepAttempt(sql: Sql, record: StepRecord) {
  const final = record.runStatus === 'succeeded' || record.runStatus === 'failed'
  const [row] = await sql<{ recorded: boolean }[]>`
    with step as (
      insert into run_steps (run_id, index, type, status, attempts, input, output, error, started_at, finished_at)
      values (${record.runId}, ${record.stepIndex}, ${record.type}, ${record.status}, ${record.attempt},
        ${json(sql, record.input)}, ${json(sql, record.output)}, ${record.error}, ${record.startedAt},
        ${record.status === 'retrying' ? null : new Date()})
      on conflict (run_id, index) do update set
        status = excluded.status, attempts = excluded.attempts, input = excluded.input, output = excluded.output,
        error = excluded.error, finished_at = excluded.finished_at
      where run_steps.status = 'retrying' and run_steps.attempts < excluded.attempts
      returning run_id
    ), queued as (
      insert into outbox (run_id, step_index, attempt, available_at)
      select run_id, ${record.next?.stepIndex ?? 0}, ${record.next?.attempt ?? 1}, ${record.next?.availableAt ?? new Date()}
      from step where ${record.next !== null}
    ), run as (
      update runs set status = ${record.runStatus}, started_at = coalesce(started_at, ${record.startedAt}),
        finished_at = ${final ? new Date() : null}
      where id in (select run_id from step) and status in ('queued', 'running')
    )
    select exists (select 1 from step) as recorded`
  return row!.recorded
}

const json = (sql: Sql, value: unknown) => (value === undefined || value === null ? null : sql.json(value as never))
