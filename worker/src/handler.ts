import type { Sql } from '@zap/sql/db'
import { failRunOnInternalError } from '@zap/sql/execution'
import { outboxNotifier } from '@zap/sql/outbox'
import type { StepMessage } from '@zap/lib/messages'
import { isDatabaseDown } from '@zap/lib/http'
import { executeStep, type ExecuteOptions } from './execute.ts'

export type StepHandler = { handle: (message: StepMessage) => Promise<unknown>; stop: () => void }

/**
 * Executes step messages, waiting out database outages. A message that keeps failing for another
 * reason (a bug) fails its run after a few tries, so it never blocks the messages behind it.
 */
export function createStepHandler(sql: Sql, options: ExecuteOptions, log: (line: string) => void = console.error): StepHandler {
  let stopping = false
  const wakeRelays = outboxNotifier(sql)

  async function handle(message: StepMessage) {
    for (let failures = 0; ; failures++) {
      try {
        const execution = await executeStep(sql, message, options)
        if (execution === 'executed') wakeRelays()
        return execution
      } catch (error) {
        if (stopping) throw error
        const reason = (error as Error).message
        log(`step ${message.runId}:${message.stepIndex}: ${reason}; retrying`)
        if (!isDatabaseDown(error) && failures >= 2) {
          return failRunOnInternalError(sql, message.runId, message.stepIndex, 'unknown', `Internal error: ${reason}`)
        }
        await Bun.sleep(Math.min(5_000, 200 * 2 ** failures))
      }
    }
  }

  return { handle, stop: () => (stopping = true) }
}
