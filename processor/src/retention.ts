import type { Sql } from '@zap/sql/db'
import { pruneFinishedRuns, type RetentionPolicy } from '@zap/sql/retention'
import { pruneExpiredFlowControl } from '@zap/sql/flow'
import type { Logger } from '@zap/lib/log'
import { runsPruned } from '@zap/lib/metrics'
import { repeatUntilStopped } from '@zap/lib/repeat'

export type RetentionOptions = { sql: Sql; policy: RetentionPolicy; batchSize: number; intervalMs: number; pauseMs: number; log: Logger }

// Between two batches the job rests this many times as long as the last batch took: on a busy database
// batches slow down and the pauses grow with them, so the prune never takes more than a quarter of one connection.
const restFactor = 3

/**
 * Deletes runs past their retention every `intervalMs`, one small batch per transaction with a pause
 * between batches (at least `pauseMs`), so a large prune never holds locks or the database long enough to slow ingestion.
 * Ended target pauses and long-unused rate-limit buckets go the same way.
 */
export function startRetention({ sql, policy, batchSize, intervalMs, pauseMs, log }: RetentionOptions) {
  return repeatUntilStopped(async (running) => {
    let pruned = 0
    let tookMs = 0
    try {
      for (let deleted: number | null = batchSize; deleted === batchSize && running(); await Bun.sleep(Math.max(pauseMs, restFactor * tookMs))) {
        const started = performance.now()
        deleted = await pruneFinishedRuns(sql, policy, batchSize)
        tookMs = performance.now() - started
        pruned += deleted ?? 0
        runsPruned.inc(deleted ?? 0)
      }
      for (let deleted = batchSize; deleted >= batchSize && running(); await Bun.sleep(pauseMs)) deleted = await pruneExpiredFlowControl(sql, batchSize)
    } catch (error) {
      log.warn({ err: error }, 'pruning old runs failed; trying again at the next interval')
    }
    if (pruned > 0) log.info({ pruned }, `deleted ${pruned} runs past their retention`)
  }, intervalMs)
}
