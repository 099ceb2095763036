import { createServer } from 'node:net'

/** A port free right now, chosen by the system from its ephemeral range. */
export function freePort() {
  return listenOnce(0)
}

/**
 * A free port below the ephemeral range, for servers a process starts for itself: it cannot collide
 * with a port someone else just took from freePort() and has not bound yet.
 */
export async function freePortBelowEphemeral() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = await listenOnce(15_000 + Math.floor(Math.random() * 15_000)).catch(() => null)
    if (port !== null) return port
  }
  return freePort()
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
