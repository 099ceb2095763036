import type { Logger } from './log.ts'

/** Runs `stop` once on SIGINT or SIGTERM, then exits 0 (1 if stopping failed). */
export function stopOnSignals(stop: () => Promise<unknown>, log: Logger) {
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      if (stopping) return
      stopping = true
      log.info({ signal }, 'stopping')
      try {
        await stop()
        log.flush()
        process.exit(0)
      } catch (error) {
        log.error({ err: error }, 'shutdown failed')
        log.flush()
        process.exit(1)
      }
    })
  }
}
