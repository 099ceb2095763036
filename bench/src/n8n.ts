import { Database } from 'bun:sqlite'
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { waitFor } from './wait.ts'
import { freePort } from '@zap/lib/ports'

// The newest 1.x that runs on Node 20; its default xlsx comes from a CDN, so the npm one is pinned.
export const n8nVersion = '1.123.50'
const sources = join(import.meta.dir, '..', 'n8n')
const cacheDir = join(import.meta.dir, '..', '..', '.cache', 'n8n')
const bin = join(cacheDir, 'node_modules', '.bin', 'n8n')
const workflowId = 'zapbench00000001'

/** Installs n8n into .cache/n8n once (about 1.7 GB); throws with the reason when it cannot. */
export async function installN8n(log: (line: string) => void) {
  if (existsSync(bin)) return
  if (!Bun.which('npm')) throw new Error('npm was not found on PATH; n8n installs with npm on Node 20')
  log(`installing n8n ${n8nVersion} into ${cacheDir} (about 1.7 GB, once)`)
  mkdirSync(cacheDir, { recursive: true })
  copyFileSync(join(sources, 'package.json'), join(cacheDir, 'package.json'))
  const { exitCode, output } = await run(['npm', 'install', '--no-audit', '--no-fund', '--loglevel=error'], cacheDir)
  if (exitCode !== 0) throw new Error(`npm install n8n@${n8nVersion} failed (exit ${exitCode}): ${output.slice(-400)}`)
}

/** Starts n8n on SQLite in a fresh folder with the webhook -> No Operation workflow imported and active. */
export async function startN8n() {
  const home = mkdtempSync(join(tmpdir(), 'zap-bench-n8n-'))
  const port = await freePort()
  const env = {
    ...Bun.env,
    N8N_USER_FOLDER: home,
    N8N_PORT: String(port),
    N8N_LISTEN_ADDRESS: '127.0.0.1',
    N8N_DIAGNOSTICS_ENABLED: 'false',
    N8N_VERSION_NOTIFICATIONS_ENABLED: 'false',
    N8N_PERSONALIZATION_ENABLED: 'false',
  }
  for (const command of [['import:workflow', `--input=${join(sources, 'workflow.json')}`], ['update:workflow', `--id=${workflowId}`, '--active=true']]) {
    const { exitCode, output } = await run([bin, ...command], home, env)
    if (exitCode !== 0) throw new Error(`n8n ${command[0]} failed (exit ${exitCode}): ${output.slice(-400)}`)
  }
  const child = Bun.spawn([bin, 'start'], { cwd: home, env, stdout: 'pipe', stderr: 'pipe' })
  let output = ''
  void (async () => {
    for await (const chunk of child.stdout) output += new TextDecoder().decode(chunk)
  })()
  const ready = await waitFor(() => child.exitCode !== null || output.includes('Editor is now accessible'), 120_000)
  if (!ready || child.exitCode !== null) {
    child.kill('SIGKILL')
    throw new Error(`n8n did not activate its workflow (${child.exitCode === null ? 'timed out' : `exit ${child.exitCode}`}): ${output.slice(-400)}`)
  }
  const database = new Database(join(home, '.n8n', 'database.sqlite'), { readonly: true })
  database.run('pragma busy_timeout = 10000')
  return {
    process: child as Subprocess,
    webhookUrl: `http://127.0.0.1:${port}/webhook/bench`,
    executions: (afterId: number) => readExecutions(database, afterId),
    lastExecutionId: () => database.query<{ id: number | null }, []>('select max(id) as id from execution_entity').get()!.id ?? 0,
    unfinished: () => database.query<{ count: number }, []>('select count(*) as count from execution_entity where stoppedAt is null').get()!.count,
    async stop() {
      database.close()
      child.kill('SIGTERM')
      const forceKill = setTimeout(() => child.kill('SIGKILL'), 10_000)
      await child.exited
      clearTimeout(forceKill)
      rmSync(home, { recursive: true, force: true })
    },
  }
}

export type Execution = { id: number; status: string; createdMs: number; stoppedMs: number | null }

function readExecutions(database: Database, afterId: number) {
  return database
    .query<Execution, [number]>(`
      select id, status, unixepoch(createdAt, 'subsec') * 1000 as createdMs, unixepoch(stoppedAt, 'subsec') * 1000 as stoppedMs
      from execution_entity where id > ? order by id`)
    .all(afterId)
}

async function run(command: string[], cwd: string, env: Record<string, string | undefined> = Bun.env) {
  const child = Bun.spawn(command, { cwd, env, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { exitCode, output: stdout + stderr }
}
