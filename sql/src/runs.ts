import type { Sql, TransactionSql } from 'postgres'
import { newId } from '@zap/lib/ids'
import type { Run, RunExecution, RunStatus, RunStep, RunSummary, RunWait, Trigger, ZapStep } from '@zap/lib/resources'
import { debounceMaxWaitSeconds, type Debounce } from '@zap/lib/flow'
import type { Verify } from '@zap/lib/verify'
import { waitOfRun } from './flow.ts'

export type Acceptance =
  | { outcome: 'accepted'; runId: string; debouncedInto?: string }
  | { outcome: 'duplicate'; runId: string }
  | { outcome: 'unknown_zap' | 'disabled' }
  | { outcome: 'needs_verification'; verify: Verify }

export type AcceptInput = {
  zapId: string
  ownerId?: string
  trigger: Trigger
  idempotencyKey: string | null
  verified: boolean
  traceParent?: string | null
  /** What started the run: a webhook unless said otherwise. */
  cause?: 'schedule'
}

/**
 * Stores a run and its first outbox row in one statement, inside the caller's transaction (so the
 * caller decides whether it commits). A zap with a verification setting is only stored once the
 * caller says the request was verified with the setting this returns.
 */
export async function acceptRun(sql: TransactionSql, input: AcceptInput): Promise<Acceptance> {
  const { trigger } = input
  const [row] = await sql<{ enabled: boolean; verify: Verify | null; runId: string | null; debounce: Debounce | null }[]>`
    with zap as (
      select id, user_id, version, enabled, verify, keep_sensitive_headers, concurrency, debounce from zaps
      where id = ${input.zapId} and deleted_at is null and (${input.ownerId ?? null}::uuid is null or user_id = ${input.ownerId ?? null})
    ), run as (
      insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query, idempotency_key, concurrency_key, trace_parent, replay_cause)
      select ${newId()}, z.id, z.user_id, z.version, t.body, ${trigger.contentType}, ${keptHeaders(sql)}, t.query, ${input.idempotencyKey},
        ${concurrencyKeyOf(sql)}, ${input.traceParent ?? null}, ${input.cause ?? 'webhook'}
      from zap z, (select ${sql.json(trigger.body as never)}::jsonb as body, ${sql.json(trigger.headers)}::jsonb as headers, ${sql.json(trigger.query)}::jsonb as query) t
      where z.enabled and (z.verify is null or ${input.verified}) and z.debounce is null
      on conflict (zap_id, idempotency_key) do nothing
      returning id
    ), queued as (
      insert into outbox (run_id, step_index) select id, 0 from run
    )
    select enabled, verify, debounce, (select id from run) as "runId" from zap`
  if (!row) return { outcome: 'unknown_zap' }
  if (!row.enabled) return { outcome: 'disabled' }
  if (row.runId) return { outcome: 'accepted', runId: row.runId }
  if (row.verify !== null && !input.verified) return { outcome: 'needs_verification', verify: row.verify }
  if (row.debounce) return acceptDebouncedRun(sql, input, row.debounce)
  // Looked up apart: inside the insert, a plan made before runs has statistics scans every run of the zap.
  return { outcome: 'duplicate', runId: await findRunIdByKey(sql, input.zapId, input.idempotencyKey!) }
}

/** What `acceptRuns` decided for one webhook; `needs_transaction` for a zap that verifies (or debounces, in a batch), which `acceptRun` stores alone. */
export type BatchAcceptance = Exclude<Acceptance, { outcome: 'needs_verification' }> | { outcome: 'needs_transaction' }

/**
 * Stores the runs and first outbox rows of many webhooks in one statement, inside the caller's
 * transaction, deciding each as `acceptRun` would. Rows go in by zap and idempotency key, so two
 * batches sharing keys lock them in the same order; of equal keys the earliest webhook wins.
 */
export async function acceptRuns(sql: TransactionSql, inputs: AcceptInput[]): Promise<BatchAcceptance[]> {
  if (inputs.length === 1) {
    // acceptRun's statement costs less than the batch's for one webhook, and stores a debounced one too.
    const alone = await acceptRun(sql, inputs[0]!)
    return [alone.outcome === 'needs_verification' ? { outcome: 'needs_transaction' } : alone]
  }
  const webhooks = inputs.map((input, ord) => ({
    ord,
    id: newId(),
    zap_id: input.zapId,
    owner_id: input.ownerId ?? null,
    content_type: input.trigger.contentType,
    idempotency_key: input.idempotencyKey,
    trace_parent: input.traceParent ?? null,
    cause: input.cause ?? 'webhook',
    trigger: { body: input.trigger.body, headers: input.trigger.headers, query: input.trigger.query },
  }))
  const rows = await sql<{ ord: number; id: string; outcome: BatchAcceptance['outcome'] }[]>`
    with input as (
      select * from jsonb_to_recordset(${sql.json(webhooks as never)}) as i(
        ord integer, id uuid, zap_id uuid, owner_id uuid, content_type text, idempotency_key text, trace_parent text, cause text, trigger jsonb)
    ), zap as (
      select i.ord, z.id, z.user_id, z.version, z.enabled, z.verify, z.keep_sensitive_headers, z.concurrency, z.debounce
      from input i join zaps z on z.id = i.zap_id and z.deleted_at is null and (i.owner_id is null or z.user_id = i.owner_id)
    ), run as (
      insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query, idempotency_key, concurrency_key, trace_parent, replay_cause)
      select i.id, z.id, z.user_id, z.version, t.body, i.content_type, ${keptHeaders(sql)}, t.query, i.idempotency_key, ${concurrencyKeyOf(sql)}, i.trace_parent, i.cause
      from input i join zap z on z.ord = i.ord,
        lateral (select nullif(i.trigger -> 'body', 'null'::jsonb) as body, i.trigger -> 'headers' as headers, i.trigger -> 'query' as query) t
      where z.enabled and z.verify is null and z.debounce is null
      order by z.id, i.idempotency_key, i.ord
      on conflict (zap_id, idempotency_key) do nothing
      returning id
    ), queued as (
      insert into outbox (run_id, step_index) select id, 0 from run
    )
    select i.ord, i.id, case
        when z.id is null then 'unknown_zap'
        when not z.enabled then 'disabled'
        when i.id in (select id from run) then 'accepted'
        when z.verify is not null or z.debounce is not null then 'needs_transaction'
        else 'duplicate'
      end as outcome
    from input i left join zap z on z.ord = i.ord
    order by i.ord`
  const duplicates = inputs.filter((_, ord) => rows[ord]!.outcome === 'duplicate')
  const firstRuns = duplicates.length > 0 ? await findRunIdsByKeys(sql, duplicates) : new Map<string, string>()
  return rows.map(({ ord, id, outcome }): BatchAcceptance => {
    if (outcome === 'accepted') return { outcome, runId: id }
    if (outcome === 'duplicate') return { outcome, runId: firstRuns.get(keyOf(inputs[ord]!))! }
    return { outcome } as BatchAcceptance
  })
}

const keyOf = (input: AcceptInput) => `${input.zapId}:${input.idempotencyKey}`

// Looked up apart, as in acceptRun: a plan made inside the insert may scan every run of the zap.
async function findRunIdsByKeys(sql: TransactionSql, inputs: AcceptInput[]) {
  const runs = await sql<{ zapId: string; key: string; id: string }[]>`
    select r.zap_id as "zapId", r.idempotency_key as key, r.id
    from unnest(${inputs.map((input) => input.zapId)}::uuid[], ${inputs.map((input) => input.idempotencyKey!)}::text[]) as k(zap_id, key)
    join runs r on r.zap_id = k.zap_id and r.idempotency_key = k.key`
  return new Map(runs.map((run) => [`${run.zapId}:${run.key}`, run.id]))
}

// Credentials a sender puts in its request; kept only for zaps that opt in (some users forward them).
const sensitiveHeaders = ['authorization', 'cookie', 'proxy-authorization']

/** The trigger headers of `t` that zap `z` keeps. */
const keptHeaders = (sql: Sql | TransactionSql) => sql`
  t.headers - case when z.keep_sensitive_headers then '{}'::text[] else ${sensitiveHeaders}::text[] end`

/** The run's concurrency key, rendered from zap `z` and trigger `t`; null when the zap has no concurrency limit. */
const concurrencyKeyOf = (sql: Sql | TransactionSql) => sql`
  case when z.concurrency is not null
    then render_flow_key(coalesce(z.concurrency ->> 'key', ''), jsonb_build_object('body', t.body, 'headers', t.headers, 'query', t.query)) end`

/**
 * A webhook for a debounced zap joins the run still waiting for the same key: that run takes
 * this payload and waits `waitSeconds` more (never past its maximum wait from its start), and this
 * webhook is stored as a run `debounced` into it. Without such a run it starts one.
 */
async function acceptDebouncedRun(tx: TransactionSql, input: AcceptInput, debounce: Debounce): Promise<Acceptance> {
  const { trigger } = input
  const maxWaitSeconds = debounceMaxWaitSeconds(debounce)
  const [rendered] = await tx<{ key: string }[]>`
    select render_flow_key(${debounce.key ?? ''}, ${tx.json({ body: trigger.body as never, headers: trigger.headers, query: trigger.query })}) as key`
  const key = rendered!.key
  await tx`select pg_advisory_xact_lock(hashtextextended(${`debounce:${input.zapId}:${key}`}, 0))`
  const [open] = await tx<{ id: string }[]>`
    select r.id from runs r join outbox o on o.run_id = r.id and o.step_index = 0 and o.replay = 0
    where r.zap_id = ${input.zapId} and r.debounce_key = ${key} and r.status = 'queued' and r.replay = 0
    order by r.created_at desc
    limit 1
    for update of o skip locked`
  const [run] = await tx<{ id: string }[]>`
    insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query, idempotency_key,
      concurrency_key, debounce_key, status, debounced_into, finished_at, trace_parent, replay_cause)
    select ${newId()}, z.id, z.user_id, z.version, t.body, ${trigger.contentType}, ${keptHeaders(tx)}, t.query, ${input.idempotencyKey},
      ${concurrencyKeyOf(tx)}, ${key}, ${open ? 'debounced' : 'queued'}, ${open?.id ?? null}, ${open ? tx`now()` : null}, ${input.traceParent ?? null}, ${input.cause ?? 'webhook'}
    from zaps z, (select ${tx.json(trigger.body as never)}::jsonb as body, ${tx.json(trigger.headers)}::jsonb as headers, ${tx.json(trigger.query)}::jsonb as query) t
    where z.id = ${input.zapId}
    on conflict (zap_id, idempotency_key) do nothing
    returning id`
  if (!run) return { outcome: 'duplicate', runId: await findRunIdByKey(tx, input.zapId, input.idempotencyKey!) }
  if (!open) {
    await tx`insert into outbox (run_id, step_index, available_at) values (${run.id}, 0, now() + ${debounce.waitSeconds} * interval '1 second')`
    return { outcome: 'accepted' as const, runId: run.id }
  }
  await tx`
    with absorbed as (
      update runs set trigger_body = t.trigger_body, trigger_content_type = t.trigger_content_type,
        trigger_headers = t.trigger_headers, trigger_query = t.trigger_query
      from runs t where t.id = ${run.id} and runs.id = ${open.id}
      returning runs.created_at
    )
    update outbox set available_at = least(now() + ${debounce.waitSeconds} * interval '1 second',
      (select created_at from absorbed) + ${maxWaitSeconds} * interval '1 second')
    where run_id = ${open.id} and step_index = 0`
  return { outcome: 'accepted' as const, runId: run.id, debouncedInto: open.id }
}

async function findRunIdByKey(sql: Sql | TransactionSql, zapId: string, idempotencyKey: string) {
  const [run] = await sql<{ id: string }[]>`select id from runs where zap_id = ${zapId} and idempotency_key = ${idempotencyKey}`
  return run!.id
}

export async function listRuns(
  sql: Sql,
  userId: string,
  filter: { zapId?: string; status?: RunStatus; limit: number; cursor?: string },
) {
  const runs = await sql<RunSummary[]>`
    select r.id, r.zap_id as "zapId", r.version, ${shownStatus(sql)}, r.replay, r.debounced_into as "debouncedInto",
      r.created_at as "createdAt", r.finished_at as "finishedAt"
    from runs r left join lateral ${waitOfRun(sql)} w on true left join lateral ${dueLaterOfRun(sql)} d on true
    where r.user_id = ${userId}
      ${filter.zapId ? sql`and r.zap_id = ${filter.zapId}` : sql``}
      ${filter.status === 'waiting' ? sql`and (w.wait is not null or d.due is not null) and r.status in ('queued', 'running')` : sql``}
      ${filter.status === 'running' || filter.status === 'queued' ? sql`and r.status = ${filter.status} and w.wait is null and d.due is null` : sql``}
      ${filter.status && !['waiting', 'running', 'queued'].includes(filter.status) ? sql`and r.status = ${filter.status}` : sql``}
      ${filter.cursor ? sql`and r.id < ${filter.cursor}` : sql``}
    order by r.id desc
    limit ${filter.limit + 1}`
  const page = runs.slice(0, filter.limit).map(withWaitTimes)
  return { runs: page, nextCursor: runs.length > filter.limit ? page.at(-1)!.id : null }
}

// Read only when runs are shown: waiting is derived, never written by the worker.
const shownStatus = (sql: Sql) => sql`
  case when (w.wait is not null or d.due is not null) and r.status in ('queued', 'running') then 'waiting' else r.status end as status,
  case when r.status in ('queued', 'running') then w.wait end as wait`

// The wait comes as JSON, with its times as text.
const withWaitTimes = <Summary extends { wait: RunWait | null }>(run: Summary): Summary =>
  run.wait ? { ...run, wait: { ...run.wait, since: new Date(run.wait.since), until: new Date(run.wait.until) } } : run

/** Whether run `r`, queued or running, is held back: by a flow limit, or by a delay or a retry's backoff until later. */
export const isHeldBack = (sql: Sql) => sql`
  (r.status in ('queued', 'running') and (exists (select 1 from flow_waits f where f.run_id = r.id) or ${dueLaterOfRun(sql)} is not null))`

/** When run `r`'s next step is due, if later than now because a delay or a retry holds it back (null otherwise). */
const dueLaterOfRun = (sql: Sql) => sql`
  (select min(o.available_at) as due from outbox o join run_steps s on s.run_id = o.run_id and s.index = o.step_index
   where o.run_id = r.id and o.available_at > now() and s.status in ('retrying', 'waiting'))`

/** The stored webhook request of run `r`, as the API shows it and templates see it. */
export const triggerOfRun = (sql: Sql) => sql`
  json_build_object('body', r.trigger_body, 'contentType', r.trigger_content_type, 'headers', r.trigger_headers, 'query', r.trigger_query)`

/** The run with every step (pending ones included) and its earlier executions, or null. */
export async function findRun(sql: Sql, userId: string, id: string): Promise<Run | null> {
  const [run] = await sql<(Omit<Run, 'steps' | 'history'> & { steps: ZapStep[] })[]>`
    select r.id, r.zap_id as "zapId", r.version, ${shownStatus(sql)}, r.replay, r.debounced_into as "debouncedInto", r.replay_from as "replayFrom", r.replay_cause as "replayCause",
      r.created_at as "createdAt", r.started_at as "startedAt",
      r.finished_at as "finishedAt", v.steps, ${triggerOfRun(sql)} as trigger
    from runs r join zap_versions v on v.zap_id = r.zap_id and v.version = r.version
    left join lateral ${waitOfRun(sql)} w on true left join lateral ${dueLaterOfRun(sql)} d on true
    where r.id = ${id} and r.user_id = ${userId}`
  if (!run) return null
  const recorded = await sql<RunStep[]>`
    select index, type, status, attempts, input, output, error, started_at as "startedAt", finished_at as "finishedAt"
    from run_steps where run_id = ${id} order by index`
  const byIndex = new Map(recorded.map((step) => [step.index, step]))
  const { steps, ...rest } = withWaitTimes(run)
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
