import type { Logger } from './log.ts'
import { databaseSetupProblem } from './database.ts'

export type Outage = { down: (error: unknown) => void; up: () => void; isDown: () => boolean }

/**
 * Logs a dependency going away once, when the first failure is seen, and once more when it answers
 * again (with how long it was gone), however many attempts fail in between.
 */
export function trackOutage(log: Logger, dependency: string): Outage {
  let since: number | null = null
  let failures = 0
  return {
    down(error) {
      failures++
      if (since !== null) return
      since = Date.now()
      log.error({ err: error, dependency }, databaseSetupProblem(error) ?? `${dependency} unreachable; retrying until it is back`)
    },
    up() {
      if (since === null) return
      log.info({ dependency, downMs: Date.now() - since, failures }, `${dependency} reachable again after ${((Date.now() - since) / 1000).toFixed(1)} s`)
      since = null
      failures = 0
    },
    isDown: () => since !== null,
  }
}
