import type { Sql } from '@zap/sql/db'
import { failRunOnInternalError } from '@zap/sql/execution'
import { noteRunFailure } from '@zap/sql/alerts'
import { outboxNotifier } from '@zap/sql/outbox'
import type { StepMessage } from '@zap/lib/messages'
import { isDatabaseDown } from '@zap/lib/database'
import type { Logger } from '@zap/lib/log'
import { runsFinished } from '@zap/lib/metrics'
import { trackOutage } from '@zap/lib/outage'
import { traceIdOf } from '@zap/lib/trace'
import { executeStep, type ExecuteOptions } from './execute.ts'
import { createStepStore } from './step-store.ts'

/** `onDetached`: the step is still running but leased, so its message may be treated as handled. */
export type StepHandler = { handle: (message: StepMessage, onDetached?: () => void) => Promise<unknown>; stop: () => void }

/**
 * Executes step messages, waiting out database outages. A message that keeps failing for another
 * reason (a bug) fails its run after a few tries, so it never blocks the messages behind it.
 */
export function createStepHandler(sql: Sql, options: ExecuteOptions, log: Logger): StepHandler {
  let stopping = false
  const outage = trackOutage(log, 'database')
  const db = { sql, store: createStepStore(sql, options.batch), wakeRelays: outboxNotifier(sql) }

  async function handle(message: StepMessage, onDetached?: () => void) {
    const stepLog = log.child({ runId: message.runId, step: message.stepIndex, attempt: message.attempt, trace_id: traceIdOf(message.traceParent) })
    for (let failures = 0; ; failures++) {
      try {
        const execution = await executeStep(db, message, options, stepLog, onDetached)
        outage.up()
        return execution
      } catch (error) {
        if (stopping) throw error
        const reason = (error as Error).message
        if (!isDatabaseDown(error) && failures >= 2) {
          stepLog.error({ err: error }, 'unexpected error running the step; failing the run')
          const failed = await failRunOnInternalError(sql, message.runId, message.stepIndex, 'unknown', `Internal error: ${reason}`)
          if (failed) {
            runsFinished.inc({ status: 'failed' })
            await noteRunFailure(sql, { runId: message.runId, stepIndex: message.stepIndex, stepType: 'unknown', error: `Internal error: ${reason}` }, options.alertThrottleMs)
          }
          return failed
        }
        if (isDatabaseDown(error)) outage.down(error)
        else stepLog.warn({ reason }, 'unexpected error running the step; retrying')
        await Bun.sleep(Math.min(5_000, 200 * 2 ** failures))
      }
    }
  }

  return { handle, stop: () => (stopping = true) }
}
