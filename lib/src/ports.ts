import { createServer } from 'node:net'

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
