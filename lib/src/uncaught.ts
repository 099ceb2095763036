import { isDatabaseDown } from './database.ts'
import type { Logger } from './log.ts'

const repeatLogMs = 60_000

/**
 * Keeps a service alive through errors its database and broker clients throw outside any promise
 * while a connection drops (postgres.js writing to a socket that just closed, a rejected reconnect):
 * the client recovers by itself, so each kind is logged once a minute at most. Anything else means
 * the process cannot trust its state: it exits 1 at once, for its supervisor to restart it.
 */
export function containDependencyErrors(log: Logger) {
  const lastLogged = new Map<string, { at: number; suppressed: number }>()

  function onError(error: unknown) {
    if (!isDependencyError(error)) {
      log.fatal({ err: error }, 'unexpected error; exiting for a restart')
      log.flush()
      process.exit(1)
    }
    const kind = `${(error as Error).name}: ${(error as Error).message}`
    const seen = lastLogged.get(kind)
    const now = Date.now()
    if (seen && now - seen.at < repeatLogMs) {
      seen.suppressed++
      return
    }
    log.warn({ err: error, suppressed: seen?.suppressed ?? 0 }, 'contained a connection error and carried on')
    lastLogged.set(kind, { at: now, suppressed: 0 })
  }

  process.on('uncaughtException', onError)
  process.on('unhandledRejection', onError)
}

export function isDependencyError(error: unknown) {
  if (isDatabaseDown(error)) return true
  if (!(error instanceof Error)) return false
  return error.name.startsWith('KafkaJS') || /postgres\/src\/connection\.js/.test(error.stack ?? '')
}
