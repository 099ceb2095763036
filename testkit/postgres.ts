import { readdirSync, readFileSync } from 'node:fs'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres } from '@zap/standalone/embedded-postgres'

export type RunningPostgres = {
  url: string
  port: number
  stop: () => Promise<void>
  /** `pg_ctl stop -m fast` (the default) or `-m immediate`; the data stays for `resume`. */
  pause: (mode?: 'fast' | 'immediate') => Promise<void>
  resume: () => Promise<void>
  /** SIGSTOP to the server and every backend: connections stay open and nothing answers, as in a network partition. */
  freeze: () => void
  thaw: () => void
}

const fastButNotDurable = ['-c', 'max_connections=300', '-c', 'fsync=off']
// An immediate stop is a crash: asynchronous commits not yet written out would be lost, as they would in production.
const commitsSurviveCrashes = ['-c', 'synchronous_commit=on']
const commitsMayBeLost = ['-c', 'synchronous_commit=off']

/**
 * A throwaway real PostgreSQL server in a temp dir, tuned for tests rather than durability: with
 * `crashSafe` a commit survives an immediate stop (the process crashing), though not the machine's.
 */
export async function startPostgres(options: { crashSafe?: boolean } = {}): Promise<RunningPostgres> {
  const dir = await mkdtemp(join(tmpdir(), 'zap-pg-'))
  // Open to the postgres user that runs the server under root, so the data stays in here and goes with it.
  await chmod(dir, 0o755)
  const server = await startEmbeddedPostgres(dir, { flags: [...fastButNotDurable, ...(options.crashSafe ? commitsSurviveCrashes : commitsMayBeLost)] })
  return {
    // Tests make databases of their own.
    url: server.superuserUrl,
    port: server.port,
    pause: server.pause,
    resume: server.resume,
    freeze: () => signalTree(server.pid(), 'SIGSTOP'),
    thaw: () => signalTree(server.pid(), 'SIGCONT'),
    stop: async () => {
      await server.stop()
      await rm(dir, { recursive: true, force: true })
    },
  }
}

function signalTree(pid: number | undefined, signal: 'SIGSTOP' | 'SIGCONT') {
  if (pid === undefined) throw new Error('PostgreSQL is not running')
  for (const each of [pid, ...childrenOf(pid)]) {
    try {
      process.kill(each, signal)
    } catch (error) {
      // A backend may exit between the listing and the signal.
      if ((error as { code?: string }).code !== 'ESRCH') throw error
    }
  }
}

function childrenOf(pid: number) {
  return readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number).filter((each) => {
    try {
      return Number(readFileSync(`/proc/${each}/stat`, 'utf8').split(') ')[1]!.split(' ')[1]) === pid
    } catch {
      return false
    }
  })
}

/** The SQLSTATE a statement fails with for the role in `url`, or 'succeeded': what a role may do. */
export async function failureCode(url: string, statement: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(statement)
    return 'succeeded'
  } catch (error) {
    return (error as { code?: string }).code
  } finally {
    await sql.end()
  }
}
