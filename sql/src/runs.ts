import type { Sql } from 'postgres'
import { newId } from '@zap/lib/ids'
import type { Run, RunExecution, RunStatus, RunStep, RunSummary, Trigger, ZapStep } from '@zap/lib/resources'

export type Acceptance =
  | { outcome: 'accepted' | 'duplicate'; runId: string }
  | { outcome: 'unknown_zap' | 'disabled' }
  | { outcome: 'needs_signature'; secret: string }

/**
 * Stores a run and its first outbox row in one statement. A zap with a secret is only stored
 * once the caller says the signature was verified against the secret this returns.
 */
export async function acceptRun(
  sql: Sql,
  input: { zapId: string; ownerId?: string; trigger: Trigger; idempotencyKey: string | null; signatureVerified: boolean },
): Promise<Acceptance> {
  const { trigger } = input
  const [row] = await sql<{ enabled: boolean; secret: string | null; runId: string | null }[]>`
    with zap as (
      select id, user_id, version, enabled, secret, keep_sensitive_headers from zaps
      where id = ${input.zapId} and deleted_at is null and (${input.ownerId ?? null}::uuid is null or user_id = ${input.ownerId ?? null})
    ), run as (
      insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query, idempotency_key)
      select ${newId()}, id, user_id, version, ${sql.json(trigger.body as never)}, ${trigger.contentType},
        ${sql.json(trigger.headers)}::jsonb - case when keep_sensitive_headers then '{}'::text[] else ${sensitiveHeaders}::text[] end,
        ${sql.json(trigger.query)}, ${input.idempotencyKey}
      from zap where enabled and (secret is null or ${input.signatureVerified})
      on conflict (zap_id, idempotency_key) do nothing
      returning id
    ), queued as (
      insert into outbox (run_id, step_index) select id, 0 from run
    )
    select enabled, secret, (select id from run) as "runId" from zap`
  if (!row) return { outcome: 'unknown_zap' }
  if (!row.enabled) return { outcome: 'disabled' }
  if (row.runId) return { outcome: 'accepted', runId: row.runId }
  if (row.secret !== null && !input.signatureVerified) return { outcome: 'needs_signature', secret: row.secret }
  // Looked up apart: inside the insert, a plan made before runs has statistics scans every run of the zap.
  return { outcome: 'duplicate', runId: await findRunIdByKey(sql, input.zapId, input.idempotencyKey!) }
}

// Credentials a sender puts in its request; kept only for zaps that opt in (some users forward them).
const sensitiveHeaders = ['authorization', 'cookie', 'proxy-authorization']

async function findRunIdByKey(sql: Sql, zapId: string, idempotencyKey: string) {
  const [run] = await sql<{ id: string }[]>`select id from runs where zap_id = ${zapId} and idempotency_key = ${idempotencyKey}`
  return run!.id
}

export async function listRuns(
  sql: Sql,
  userId: string,
  filter: { zapId?: string; status?: RunStatus; limit: number; cursor?: string },
) {
  const runs = await sql<RunSummary[]>`
    select id, zap_id as "zapId", version, status, replay, created_at as "createdAt", finished_at as "finishedAt"
    from runs
    where user_id = ${userId}
      ${filter.zapId ? sql`and zap_id = ${filter.zapId}` : sql``}
      ${filter.status ? sql`and status = ${filter.status}` : sql``}
      ${filter.cursor ? sql`and id < ${filter.cursor}` : sql``}
    order by id desc
    limit ${filter.limit + 1}`
  const page = runs.slice(0, filter.limit)
  return { runs: page, nextCursor: runs.length > filter.limit ? page.at(-1)!.id : null }
}

/** The stored webhook request of run `r`, as the API shows it and templates see it. */
export const triggerOfRun = (sql: Sql) => sql`
  json_build_object('body', r.trigger_body, 'contentType', r.trigger_content_type, 'headers', r.trigger_headers, 'query', r.trigger_query)`

/** The run with every step (pending ones included) and its earlier executions, or null. */
export async function findRun(sql: Sql, userId: string, id: string): Promise<Run | null> {
  const [run] = await sql<(Omit<Run, 'steps' | 'history'> & { steps: ZapStep[] })[]>`
    select r.id, r.zap_id as "zapId", r.version, r.status, r.replay, r.replay_from as "replayFrom", r.replay_cause as "replayCause",
      r.created_at as "createdAt", r.started_at as "startedAt",
      r.finished_at as "finishedAt", v.steps, ${triggerOfRun(sql)} as trigger
    from runs r join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
    where r.id = ${id} and r.user_id = ${userId}`
  if (!run) return null
  const recorded = await sql<RunStep[]>`
    select index, type, status, attempts, input, output, error, started_at as "startedAt", finished_at as "finishedAt"
    from run_steps where run_id = ${id} order by index`
  const byIndex = new Map(recorded.map((step) => [step.index, step]))
  const { steps, ...rest } = run
  return {
    ...rest,
    steps: steps.map((step, index): RunStep =>
      byIndex.get(index) ?? { index, type: step.type, status: 'pending', attempts: 0, input: null, output: null, error: null, startedAt: null, finishedAt: null },
    ),
    history: await findRunHistory(sql, id),
  }
}

/** Earlier executions of a replayed run, oldest first, each with its steps as they were. */
async function findRunHistory(sql: Sql, runId: string) {
  const executions = await sql<Omit<RunExecution, 'steps'>[]>`
    select replay, version, from_step as "fromStep", cause, status, started_at as "startedAt", finished_at as "finishedAt"
    from run_history where run_id = ${runId} order by replay`
  if (executions.length === 0) return []
  const steps = await sql<(RunStep & { replay: number })[]>`
    select h.replay, s.index, s.type, s.status, s.attempts, s.input, s.output, s.error, s.started_at as "startedAt", s.finished_at as "finishedAt"
    from run_history h, jsonb_to_recordset(h.steps) as s(
      index integer, type text, status text, attempts integer, input jsonb, output jsonb, error text, started_at timestamptz, finished_at timestamptz)
    where h.run_id = ${runId} order by h.replay, s.index`
  return executions.map((execution): RunExecution => ({
    ...execution,
    steps: steps.filter((step) => step.replay === execution.replay).map(({ replay, ...step }) => step),
  }))
}
