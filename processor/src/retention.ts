import type { Sql } from '@zap/sql/db'
import { pruneFinishedRuns, type RetentionPolicy } from '@zap/sql/retention'
import type { Logger } from '@zap/lib/log'
import { runsPruned } from '@zap/lib/metrics'

export type RetentionOptions = { sql: Sql; policy: RetentionPolicy; batchSize: number; intervalMs: number; pauseMs: number; log: Logger }

/**
 * Deletes runs past their retention every `intervalMs`, one small batch per transaction with a pause
 * between batches, so a large prune never holds locks or the database long enough to slow ingestion.
 */
export function startRetention({ sql, policy, batchSize, intervalMs, pauseMs, log }: RetentionOptions) {
  let running = true
  let wake = () => {}
  const sleep = (ms: number) =>
    new Promise<void>((resolve) => {
      const timer = setTimeout(resolve, ms)
      wake = () => {
        clearTimeout(timer)
        resolve()
      }
    })

  async function prune() {
    let total = 0
    while (running) {
      const deleted = await pruneFinishedRuns(sql, policy, batchSize)
      if (deleted === null) break
      total += deleted
      runsPruned.inc(deleted)
      if (deleted < batchSize) break
      await sleep(pauseMs)
    }
    return total
  }

  async function loop() {
    while (running) {
      try {
        const pruned = await prune()
        if (pruned > 0) log.info({ pruned }, `deleted ${pruned} runs past their retention`)
      } catch (error) {
        log.warn({ err: error }, 'pruning old runs failed; trying again at the next interval')
      }
      if (running) await sleep(intervalMs)
    }
  }

  const done = loop()
  return {
    async stop() {
      running = false
      wake()
      await done
    },
  }
}
