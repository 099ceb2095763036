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
