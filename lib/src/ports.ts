import { createServer } from 'node:net'
import type { Logger } from './log.ts'

/** A port free right now, chosen by the system from its ephemeral range. */
export function freePort() {
  return listenOnce(0)
}

function listenOnce(port: number) {
  return new Promise<number>((resolve, reject) => {
    const server = createServer()
    server.once('error', reject)
    server.listen(port, '127.0.0.1', () => {
      const { port } = server.address() as { port: number }
      server.close(() => resolve(port))
    })
  })
}

/**
 * Runs `listen`, which serves on `port`; a port another process holds stops this one with one line
 * that names the variable to change, instead of a stack trace.
 */
export function listenOrExplain<T>(listen: () => T, port: number, variable: string, log: Logger): T {
  try {
    return listen()
  } catch (error) {
    if ((error as { code?: string }).code !== 'EADDRINUSE') throw error
    log.fatal({ port, variable }, `port ${port} is in use: set ${variable} to a free port`)
    log.flush()
    process.exit(1)
  }
}
