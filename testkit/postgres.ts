import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startEmbeddedPostgres } from '@zap/standalone/embedded-postgres'

export type RunningPostgres = { url: string; port: number; stop: () => Promise<void>; pause: () => Promise<void>; resume: () => Promise<void> }

const fastButNotDurable = ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off']

/** A throwaway real PostgreSQL server in a temp dir, tuned for tests rather than durability. */
export async function startPostgres(): Promise<RunningPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'zap-pg-'))
  // Open to the postgres user that runs the server under root, so the data stays in here and goes with it.
  await chmod(dir, 0o755)
  const server = await startEmbeddedPostgres(dir, { flags: fastButNotDurable })
  return {
    url: server.url,
    port: server.port,
    pause: server.pause,
    resume: server.resume,
    stop: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
