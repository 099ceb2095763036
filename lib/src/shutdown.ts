/** Runs `stop` once on SIGINT or SIGTERM, then exits 0 (1 if stopping failed). */
export function stopOnSignals(stop: () => Promise<unknown>) {
  let stopping = false
  for (const signal of ['SIGINT', 'SIGTERM'] as const) {
    process.on(signal, async () => {
      if (stopping) return
      stopping = true
      try {
        await stop()
        process.exit(0)
      } catch (error) {
        console.error('shutdown failed:', error)
        process.exit(1)
      }
    })
  }
}
