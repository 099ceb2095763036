import { connect, type Sql } from '@zap/sql/db'
import { pruneFinishedRuns } from '@zap/sql/retention'
import { measureIngestion, type Throughput } from './ingestion.ts'

export type PruneImpact = { seeded: number; ingestion: Throughput; prunedDuringLoad: number; pruneSeconds: number }

// What the processor's retention job does by default: RETENTION_BATCH_SIZE runs per transaction, then a rest of
// three times as long as the batch took (at least 50 ms).
const batchSize = 500
const pauseMs = 50
const restFactor = 3

/**
 * Seeds `count` runs (each with a step) that finished 60 days ago, then loads hooks as the ingestion
 * phase does while the retention job's statement deletes them batch by batch, as the processor would.
 */
export async function measureIngestionWhilePruning(sql: Sql, databaseUrl: string, hooksUrl: string, zaps: { old: string; load: string }, connections: number, amount: number, count: number): Promise<PruneImpact> {
  await sql`
    insert into runs (id, zap_id, user_id, version, status, created_at, started_at, finished_at)
    select gen_random_uuid(), z.id, z.user_id, z.version, 'succeeded', now() - interval '61 days', now() - interval '61 days', now() - interval '60 days'
    from zaps z cross join generate_series(1, ${count}) where z.id = ${zaps.old}`
  await sql`
    insert into run_steps (run_id, index, type, status, attempts, started_at, finished_at)
    select id, 0, 'http', 'succeeded', 1, created_at, finished_at from runs where zap_id = ${zaps.old}`
  await sql`analyze runs`
  const pruner = connect(databaseUrl, { max: 2 })
  const policy = { days: 30, failedDays: 30 }
  let pruned = 0
  let loading = true
  let prunedDuringLoad = 0
  const started = performance.now()
  const pruning = (async () => {
    let tookMs = 0
    for (let deleted: number | null = batchSize; deleted === batchSize; await Bun.sleep(Math.max(pauseMs, restFactor * tookMs))) {
      const batchStarted = performance.now()
      deleted = await pruneFinishedRuns(pruner, policy, batchSize)
      tookMs = performance.now() - batchStarted
      pruned += deleted ?? 0
      if (loading) prunedDuringLoad = pruned
    }
    return (performance.now() - started) / 1000
  })()
  try {
    const ingestion = await measureIngestion(sql, hooksUrl, zaps.load, connections, amount)
    loading = false
    const pruneSeconds = await pruning
    if (pruned !== count) throw new Error(`Seeded ${count} old runs but the prune deleted ${pruned}`)
    return { seeded: count, ingestion, prunedDuringLoad, pruneSeconds }
  } finally {
    loading = false
    await pruning.catch(() => {})
    await pruner.end({ timeout: 5 })
  }
}
