import type { Sql, TransactionSql } from 'postgres'
import type { Replay, ReplayFrom, ReplayVersion, RunCause, RunStatus } from '@zap/lib/resources'

export type ReplayRequest = {
  runId: string
  userId?: string
  from: ReplayFrom
  version: ReplayVersion
  cause: Exclude<RunCause, 'webhook'>
  delayMs?: number
}

export type ReplayOutcome =
  | ({ kind: 'replayed' } & Replay)
  | { kind: 'unknown_run' }
  | { kind: 'not_failed'; status: RunStatus }
  | { kind: 'zap_deleted' }
  | { kind: 'too_few_steps'; failedStep: number; version: number; stepCount: number }

export type ReplayRefusal = Exclude<ReplayOutcome, { kind: 'replayed' }>

type Candidate = { status: RunStatus; zapId: string; pinned: number; latest: number | null; latestSteps: number; pinnedSteps: number; replay: number; failedStep: number | null }

/**
 * Starts a failed run again: archives the execution so far, keeps the outputs of the steps before
 * the restart point, pins the chosen version and queues the restart step. Changes nothing when it cannot apply.
 */
export async function replayRun(tx: TransactionSql | Sql, request: ReplayRequest): Promise<ReplayOutcome> {
  const [run] = await tx<Candidate[]>`
    select r.status, r.zap_id as "zapId", r.version as pinned, r.replay,
      case when z.deleted_at is null then z.version end as latest,
      jsonb_array_length(lv.steps) as "latestSteps", jsonb_array_length(pv.steps) as "pinnedSteps",
      (select min(index) from run_steps s where s.run_id = r.id and s.status <> 'succeeded') as "failedStep"
    from runs r
    join zaps z on z.id = r.zap_id
    join zap_versions pv on pv.zap_id = r.zap_id and pv.version = r.version
    join zap_versions lv on lv.zap_id = r.zap_id and lv.version = z.version
    where r.id = ${request.runId} ${request.userId ? tx`and r.user_id = ${request.userId}` : tx``}
    for update of r`
  if (!run) return { kind: 'unknown_run' }
  if (run.status !== 'failed') return { kind: 'not_failed', status: run.status }
  if (request.version === 'latest' && run.latest === null) return { kind: 'zap_deleted' }
  const version = request.version === 'latest' ? run.latest! : run.pinned
  const stepCount = request.version === 'latest' ? run.latestSteps : run.pinnedSteps
  const fromStep = request.from === 'trigger' ? 0 : (run.failedStep ?? 0)
  if (fromStep >= stepCount) return { kind: 'too_few_steps', failedStep: fromStep, version, stepCount }
  const replay = run.replay + 1
  await tx`
    insert into run_history (run_id, replay, version, from_step, cause, status, steps, started_at, finished_at)
    select r.id, r.replay, r.version, r.replay_from, r.replay_cause, r.status,
      coalesce((select jsonb_agg(to_jsonb(s) - 'run_id' order by s.index) from run_steps s where s.run_id = r.id), '[]'),
      r.started_at, r.finished_at
    from runs r where r.id = ${request.runId}`
  await tx`delete from run_steps where run_id = ${request.runId} and index >= ${fromStep}`
  await tx`
    update runs set status = 'queued', version = ${version}, replay = ${replay}, replay_from = ${fromStep},
      replay_cause = ${request.cause}, auto_replays = auto_replays + ${request.cause === 'auto' ? 1 : 0},
      started_at = null, finished_at = null
    where id = ${request.runId}`
  await tx`
    insert into outbox (run_id, step_index, attempt, replay, available_at)
    values (${request.runId}, ${fromStep}, 1, ${replay}, now() + ${request.delayMs ?? 0} * interval '1 millisecond')`
  return { kind: 'replayed', runId: request.runId, version, fromStep, replay }
}

/**
 * Replays every failed run of the user that matches, each from its failed step on the latest version,
 * in transactions of `replayBatchSize` runs in id order: a replay of thousands of runs never holds
 * them all locked in one long transaction, and a run that fails again meanwhile is not replayed twice.
 */
export async function replayFailedRuns(sql: Sql, userId: string, filter: { zapId?: string; since?: Date; until?: Date }) {
  let queued = 0
  const skipped: { runId: string; refusal: ReplayRefusal }[] = []
  let after: string | null = null
  for (;;) {
    const batch: { id: string }[] = await sql.begin(async (tx) => {
      const runs = await tx<{ id: string }[]>`
        select id from runs
        where user_id = ${userId} and status = 'failed'
          ${after ? tx`and id > ${after}` : tx``}
          ${filter.zapId ? tx`and zap_id = ${filter.zapId}` : tx``}
          ${filter.since ? tx`and created_at >= ${filter.since}` : tx``}
          ${filter.until ? tx`and created_at < ${filter.until}` : tx``}
        order by id
        limit ${replayBatchSize}
        for update skip locked`
      for (const run of runs) {
        const outcome = await replayRun(tx, { runId: run.id, userId, from: 'failed', version: 'latest', cause: 'bulk' })
        if (outcome.kind === 'replayed') queued++
        else skipped.push({ runId: run.id, refusal: outcome })
      }
      return runs
    })
    if (batch.length < replayBatchSize) return { queued, skipped }
    after = batch.at(-1)!.id
  }
}

const replayBatchSize = 100
