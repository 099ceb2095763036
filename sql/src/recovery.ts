import type { Sql } from 'postgres'
import { recordedStepsOfRun } from './execution.ts'

type Orphan = { id: string; replay: number; replayFrom: number; steps: { index: number; status: string; attempts: number; output: { until?: string } | null }[] }

/**
 * For the one-process mode, where queued work lives in memory: after a crash, gives every unfinished
 * run without an outbox row a row for the step it was at. Only safe while no worker is running.
 */
export async function requeueOrphanedRuns(sql: Sql) {
  const orphans = await sql<Orphan[]>`
    select r.id, r.replay, r.replay_from as "replayFrom", ${recordedStepsOfRun(sql)} as steps
    from runs r
    where r.status in ('queued', 'running') and not exists (select 1 from outbox o where o.run_id = r.id)`
  const rows = orphans.map((run) => ({ run_id: run.id, replay: run.replay, ...nextStep(run) }))
  if (rows.length > 0) await sql`insert into outbox ${sql(rows, 'run_id', 'step_index', 'attempt', 'replay', 'available_at')}`
  return rows.length
}

/**
 * Gives an outbox row to each run (at most `limit`, oldest first) that is queued or running with no
 * outbox row and nothing recorded for `quietSeconds`: its message was lost on the way (a broker
 * that lost its topic or log, a worker that failed to record) and nothing else would ever move it.
 * Steps are idempotent per attempt key, so a run that was only slow is at worst run twice. Runs in
 * `skip` (handed over recently, maybe still on their way) are left alone. One caller at a time does
 * this (the others return an empty list), so two processors never hand over the same run twice.
 */
export async function requeueStrandedRuns(sql: Sql, quietSeconds: number, limit: number, skip: string[] = []) {
  return sql.begin(async (tx) => {
    const [lock] = await tx<{ taken: boolean }[]>`select pg_try_advisory_xact_lock(${reconcileLockId}) as taken`
    if (!lock!.taken) return []
    const quiet = tx`now() - ${quietSeconds} * interval '1 second'`
    const stranded = await tx<Orphan[]>`
      select r.id, r.replay, r.replay_from as "replayFrom", ${recordedStepsOfRun(tx as unknown as Sql)} as steps
      from runs r
      where r.status in ('queued', 'running') and r.created_at < ${quiet} and coalesce(r.started_at, r.created_at) < ${quiet}
        and r.id <> all(${skip}::uuid[])
        and not exists (select 1 from outbox o where o.run_id = r.id)
        and not exists (select 1 from run_steps s where s.run_id = r.id and greatest(s.started_at, s.finished_at) >= ${quiet})
        and not exists (select 1 from run_history h where h.run_id = r.id and h.finished_at >= ${quiet})
      order by r.created_at
      limit ${limit}`
    const rows = stranded.map((run) => ({ run_id: run.id, replay: run.replay, ...nextStep(run) }))
    if (rows.length > 0) await tx`insert into outbox ${tx(rows, 'run_id', 'step_index', 'attempt', 'replay', 'available_at')}`
    return rows.map((row) => row.run_id)
  })
}

const reconcileLockId = 7_280_447_302

function nextStep(run: Orphan) {
  const done = new Set(['succeeded', 'skipped'])
  const current = run.steps.find((step) => step.index >= run.replayFrom && !done.has(step.status))
  if (!current) {
    const finished = run.steps.filter((step) => step.index >= run.replayFrom).length
    return { step_index: run.replayFrom + finished, attempt: 1, available_at: new Date() }
  }
  const availableAt = current.status === 'waiting' && current.output?.until ? new Date(current.output.until) : new Date()
  return { step_index: current.index, attempt: current.attempts + 1, available_at: availableAt }
}
