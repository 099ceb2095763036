import type { Sql } from '@zap/sql/db'
import { pruneFinishedRuns, type RetentionPolicy } from '@zap/sql/retention'
import type { Logger } from '@zap/lib/log'
import { runsPruned } from '@zap/lib/metrics'
import { repeatUntilStopped } from '@zap/lib/repeat'

export type RetentionOptions = { sql: Sql; policy: RetentionPolicy; batchSize: number; intervalMs: number; pauseMs: number; log: Logger }

/**
 * Deletes runs past their retention every `intervalMs`, one small batch per transaction with a pause
 * between batches, so a large prune never holds locks or the database long enough to slow ingestion.
 */
export function startRetention({ sql, policy, batchSize, intervalMs, pauseMs, log }: RetentionOptions) {
  return repeatUntilStopped(async (running) => {
    let pruned = 0
    try {
      for (let deleted: number | null = batchSize; deleted === batchSize && running(); await Bun.sleep(pauseMs)) {
        deleted = await pruneFinishedRuns(sql, policy, batchSize)
        pruned += deleted ?? 0
        runsPruned.inc(deleted ?? 0)
      }
    } catch (error) {
      log.warn({ err: error }, 'pruning old runs failed; trying again at the next interval')
    }
    if (pruned > 0) log.info({ pruned }, `deleted ${pruned} runs past their retention`)
  }, intervalMs)
}
