import { createServer } from 'node:net'

/**
 * A free port below the ephemeral range, for servers a process starts for itself: it cannot collide
 * with a port someone else just took from the system's ephemeral range and has not bound yet.
 */
export async function freePortBelowEphemeral() {
  for (let attempt = 0; attempt < 50; attempt++) {
    const port = 15_000 + Math.floor(Math.random() * 15_000)
    if (await isPortFree(port)) return port
  }
  throw new Error('No free port between 15000 and 30000 after 50 tries')
}

export function isPortFree(port: number) {
  return new Promise<boolean>((resolve) => {
    const server = createServer()
    server.once('error', () => resolve(false))
    server.listen(port, () => server.close(() => resolve(true)))
  })
}
