import { afterAll, describe, expect, test } from 'bun:test'
import { existsSync, readFileSync } from 'node:fs'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { dirname, join } from 'node:path'
import type { Subprocess } from 'bun'
import { cleanEnv } from '@zap/testkit/cli'
import { freePort, waitUntil } from '@zap/testkit/services'
import { inTerminal, keys } from '@zap/testkit/terminal'

const root = join(import.meta.dir, '..', '..')
const cleanups: (() => Promise<unknown>)[] = []

afterAll(async () => {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('cleanup failed:', error))
}, 90_000)

// What a newcomer's shell has: no DATABASE_URL or KAFKA_BROKERS from the test run, nor its NODE_ENV.
function newcomerEnv(extra: Record<string, string>) {
  const { DATABASE_URL, KAFKA_BROKERS, NODE_ENV, ...inherited } = Bun.env
  return { ...inherited, ...extra } as Record<string, string>
}

type Shell = { process: Subprocess; output: () => string; stdout: () => string; stderr: () => string }

// One line of the README as a user's shell runs it.
function shell(line: string, cwd: string, env: Record<string, string>): Shell {
  const child = Bun.spawn(['bash', '-c', line], { cwd, env, stdout: 'pipe', stderr: 'pipe' })
  let [stdout, stderr, output] = ['', '', '']
  const read = async (stream: ReadableStream<Uint8Array>, into: (text: string) => void) => {
    const decoder = new TextDecoder()
    for await (const bytes of stream) {
      const chunk = decoder.decode(bytes, { stream: true })
      into(chunk)
      output += chunk
    }
  }
  void read(child.stdout, (text) => (stdout += text))
  void read(child.stderr, (text) => (stderr += text))
  return { process: child, output: () => output, stdout: () => stdout, stderr: () => stderr }
}

async function runLine(line: string, cwd: string, env: Record<string, string>, timeoutMs = 120_000) {
  const run = shell(line, cwd, env)
  const killer = setTimeout(() => run.process.kill('SIGKILL'), timeoutMs)
  const exitCode = await run.process.exited
  clearTimeout(killer)
  await Bun.sleep(50)
  return { exitCode, stdout: run.stdout(), stderr: run.stderr(), output: run.output() }
}

/** The shell blocks of the README's quick start, one array of command lines each. */
function quickStartBlocks(readme: string) {
  const section = readme.split(/^## /m).find((part) => part.startsWith('Quick start\n'))
  if (!section) throw new Error('README.md has no "## Quick start" section')
  return [...section.matchAll(/```sh\n([\s\S]*?)```/g)].map((match) => match[1]!.trim().split('\n'))
}

const pidOf = (output: string) => Number(output.match(/zap is ready \(pid (\d+)\)/)?.[1])

// bash -c execs `bun run dev`, which starts the server as its child.
function childrenOf(pid: number) {
  try {
    return readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').split(' ').filter(Boolean).map(Number)
  } catch {
    return []
  }
}

// `bun run dev` stops with the server it started; the server is the one signalled, as Ctrl-C reaches it.
async function stopDev(dev: Shell) {
  if (dev.process.exitCode !== null) return dev.process.exitCode
  const pids = [...childrenOf(dev.process.pid), dev.process.pid]
  try {
    process.kill(pids[0]!, 'SIGTERM')
  } catch {}
  const killLater = setTimeout(() => {
    for (const pid of pids) {
      try {
        process.kill(pid, 'SIGKILL')
      } catch {}
    }
  }, 60_000)
  const exitCode = await dev.process.exited
  clearTimeout(killLater)
  return exitCode
}

describe('the README quick start, as a newcomer runs it', () => {
  test('a fresh clone in a 0700 folder: install, dev, signup, create, trigger says Hello Grace; a second dev refuses while the first serves', async () => {
    // mkdtemp makes a 0700 folder, as /root is: as root, PostgreSQL's user cannot reach the checkout.
    const home = await mkdtemp(join(tmpdir(), 'zap-quick-start-'))
    cleanups.push(() => rm(home, { recursive: true, force: true }))
    const checkout = join(home, 'zap')
    // The committed HEAD, as anyone cloning gets it.
    const clone = Bun.spawnSync(['git', 'clone', '--quiet', root, checkout], { stderr: 'pipe' })
    expect(clone.exitCode, clone.stderr.toString()).toBe(0)
    const head = (cwd: string) => Bun.spawnSync(['git', 'rev-parse', 'HEAD'], { cwd }).stdout.toString()
    expect(head(checkout)).toBe(head(root))

    const [install, start] = quickStartBlocks(await readFile(join(checkout, 'README.md'), 'utf8'))
    expect(install).toEqual(['bun install', 'bun run dev'])
    expect(start).toHaveLength(3)
    const [installLine, devLine] = install as [string, string]
    const [signupLine, createLine, triggerLine] = start as [string, string, string]

    const [apiPort, hooksPort] = [await freePort(), await freePort()]
    const devEnv = newcomerEnv({ API_PORT: String(apiPort), HOOKS_PORT: String(hooksPort) })
    // Resolves from bun's cache, as a second install on the machine does, and refuses a lockfile out of date.
    const installed = await runLine(`${installLine} --frozen-lockfile --prefer-offline`, checkout, devEnv)
    expect(installed.exitCode, installed.output).toBe(0)

    const dev = shell(devLine, checkout, devEnv)
    cleanups.push(() => stopDev(dev))
    await waitUntil(() => {
      if (dev.process.exitCode !== null) throw new Error(`${devLine} exited with ${dev.process.exitCode}:\n${dev.output()}`)
      return dev.stdout().includes('Next: ')
    }, () => `${devLine} to be ready:\n${dev.output()}`, 180_000)
    const serverPid = pidOf(dev.stdout())
    expect(childrenOf(dev.process.pid)).toEqual([serverPid])
    expect(dev.stdout()).toContain(`Next: bun zap signup --api http://localhost:${apiPort}`)
    const database = dev.stdout().match(/^ {2}Database +(.*)$/m)![1]!
    const dataDir = database.match(/data in (\S+)/)![1]!
    if (process.getuid?.() === 0) {
      // The checkout is out of the postgres user's reach: data and a copy of the binaries go to /var/lib/zap.
      expect(database).toStartWith('embedded PostgreSQL running as user postgres, data in /var/lib/zap/')
      expect(database).toContain(`(user postgres cannot reach ${checkout}/.zap/postgres)`)
      expect(database).toContain('binaries copied to /var/lib/zap/')
      cleanups.push(() => rm(dirname(dataDir), { recursive: true, force: true }))
    } else {
      expect(database).toBe(`embedded PostgreSQL, data in ${checkout}/.zap/postgres/data`)
    }

    const cliEnv = cleanEnv(`http://localhost:${apiPort}`)
    const signup = inTerminal(signupLine, cliEnv, { cwd: checkout })
    await signup.waitFor('Email', 60_000)
    await signup.type(`grace-${crypto.randomUUID()}@example.com`, keys.enter)
    await signup.waitFor('Your name', 30_000)
    await signup.type('Grace Hopper', keys.enter)
    await signup.waitFor('Password', 30_000)
    await signup.type('correct horse battery', keys.enter)
    await signup.waitFor('Signed up and logged in as', 60_000)
    expect(await signup.exited()).toBe(0)

    const created = await runLine(createLine, checkout, cliEnv)
    expect(created.exitCode, created.output).toBe(0)
    const zapId = created.stdout.match(/^Created zap "hello" \(([0-9a-f-]{36})\)\.$/m)![1]!
    expect(created.stdout).toContain(`Try it: bun zap trigger ${zapId} --data`)

    expect(triggerLine).toContain('<zapId>')
    const triggered = await runLine(triggerLine.replace('<zapId>', zapId), checkout, cliEnv)
    expect(triggered.exitCode, triggered.output).toBe(0)
    expect(triggered.stdout).toMatch(/^✓ 1\. log succeeded \(1 attempt, [\d.]+m?s\) → Hello Grace$/m)
    expect(triggered.stdout).toMatch(/^Run succeeded\. Details: bun zap runs show [0-9a-f-]{36}$/m)

    // The same command again in the same checkout: the first instance keeps its data, PostgreSQL and ports.
    const second = await runLine(devLine, checkout, devEnv, 60_000)
    expect(second.exitCode).toBe(1)
    expect(second.stderr).toBe(
      `zap could not start: zap is already running here (pid ${serverPid}, API on :${apiPort}); stop it first, or set ZAP_DATA_DIR to another folder to run a second one\n`,
    )
    const again = await runLine(triggerLine.replace('<zapId>', zapId).replace('Grace', 'Ada'), checkout, cliEnv)
    expect(again.exitCode, again.output).toBe(0)
    expect(again.stdout).toMatch(/^✓ 1\. log succeeded \(1 attempt, [\d.]+m?s\) → Hello Ada$/m)
    expect(dev.process.exitCode).toBeNull()
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(true)

    expect(await stopDev(dev)).toBe(0)
    // PostgreSQL shut down cleanly (it removes its pid file) and the copied binaries are gone.
    expect(existsSync(join(dataDir, 'postmaster.pid'))).toBe(false)
    expect(existsSync(join(dirname(dataDir), 'postgres-binaries'))).toBe(false)
  }, 600_000)
})

describe('bun run dev that cannot start', () => {
  test.each(['API_PORT', 'HOOKS_PORT'])('with %s taken, says so in one line naming the variable and exits 1', async (variable) => {
    const taken = Bun.serve({ port: 0, fetch: () => new Response('someone else') })
    const dataDir = await mkdtemp(join(tmpdir(), 'zap-port-taken-'))
    try {
      const ports = { API_PORT: String(await freePort()), HOOKS_PORT: String(await freePort()), [variable]: String(taken.port) }
      const result = await runLine('bun run dev', root, newcomerEnv({ ...ports, ZAP_DATA_DIR: dataDir }), 60_000)
      expect(result.stderr).toBe(`zap could not start: port ${taken.port} is already in use; stop what listens there or set ${variable} to a free port\n`)
      expect(result.exitCode).toBe(1)
      expect(readFileSync(join(dataDir, 'zap.lock'), 'utf8')).toBe('')
    } finally {
      taken.stop(true)
      await rm(dataDir, { recursive: true, force: true })
    }
  }, 90_000)
})
