import type { Sql } from '@zap/sql/db'
import { requeueStrandedRuns } from '@zap/sql/recovery'
import { isDatabaseDown } from '@zap/lib/database'
import type { Logger } from '@zap/lib/log'
import { runsReconciled } from '@zap/lib/metrics'
import { repeatUntilStopped } from '@zap/lib/repeat'

export type ReconcilerOptions = { sql: Sql; quietSeconds: number; log: Logger }

const batchSize = 500
// Often enough that a stranded run waits little more than the bound, rarely enough to cost nothing.
const passEveryMs = (quietSeconds: number) => Math.max(250, Math.min(60_000, (quietSeconds * 1000) / 4))

/**
 * Closes the gaps the outbox cannot see: every pass hands each run that is queued or running with no
 * outbox row and nothing recorded for `quietSeconds` to the outbox again. A run handed over is left
 * alone for `quietSeconds` more, so one still on its way through a slow broker is not handed over
 * again at every pass. `problem()` says why the last pass failed, for readiness.
 */
export function startReconciler({ sql, quietSeconds, log }: ReconcilerOptions) {
  const handedOver = new Map<string, number>()
  let problem: string | null = null
  const loop = repeatUntilStopped(async (running) => {
    const now = Date.now()
    for (const [runId, at] of handedOver) if (now - at > quietSeconds * 1000) handedOver.delete(runId)
    try {
      for (let requeued = batchSize; requeued === batchSize && running(); ) {
        const runIds = await requeueStrandedRuns(sql, quietSeconds, batchSize, [...handedOver.keys()])
        requeued = runIds.length
        for (const runId of runIds) handedOver.set(runId, Date.now())
        runsReconciled.inc(requeued)
        if (requeued > 0) {
          log.warn({ runs: requeued, runIds: runIds.slice(0, 10), quietSeconds }, `handed ${requeued} stranded runs to the outbox again: queued or running, with no outbox row and nothing recorded for ${quietSeconds} s`)
        }
      }
      problem = null
    } catch (error) {
      problem = isDatabaseDown(error) ? 'the reconciler is waiting for the database' : `the reconciler failed: ${(error as Error)?.message}`
      // The relay logs a database outage; anything else is worth a line at every failure.
      if (!isDatabaseDown(error)) log.warn({ err: error }, 'reconciling stranded runs failed; trying again at the next pass')
    }
  }, passEveryMs(quietSeconds))
  return { problem: () => problem, stop: loop.stop }
}
