import { mkdtempSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startService } from './services.ts'

export const binPath = join(import.meta.dir, '..', 'cli', 'src', 'bin.ts')

export type ZapResult = { exitCode: number; stdout: string; stderr: string }
export type ZapOptions = { env?: Record<string, string>; stdin?: string; cwd?: string }

/** The api and hooks services as their own processes (webhook URLs pointing at hooks), and optionally a processor and worker. */
export async function startStack(options: { pipeline?: boolean } = {}) {
  const hooks = await startService('hooks')
  const api = await startService('api', { PUBLIC_HOOKS_URL: hooks.url! })
  const pipeline = options.pipeline ? await (await import('./pipeline.ts')).startPipeline() : null
  return { api, hooks, apiUrl: api.url!, stop: () => Promise.all([api.stop(), hooks.stop(), pipeline?.stop()]) }
}

/** A clean environment: its own config dir and nothing from the caller's ZAP_* variables. */
export function cleanEnv(apiUrl: string, configHome = mkdtempSync(join(tmpdir(), 'zap-cli-'))) {
  return { PATH: Bun.env.PATH!, HOME: configHome, XDG_CONFIG_HOME: configHome, ZAP_API_URL: apiUrl, ...leakMarker() }
}

/** `bun run test`'s mark (testkit/process-leaks.ts), kept through clean environments so its leak check sees the CLI too. */
export const leakMarker = (): Record<string, string> => (Bun.env.ZAP_TEST_RUN ? { ZAP_TEST_RUN: Bun.env.ZAP_TEST_RUN } : {})

/** Runs `zap ...` as a subprocess, the way a user's shell would, with stdout and stderr as pipes. */
export async function runZap(command: string[], args: string[], env: Record<string, string>, options: ZapOptions = {}): Promise<ZapResult> {
  const child = Bun.spawn([...command, ...args], {
    cwd: options.cwd,
    env: { ...env, ...options.env },
    stdin: options.stdin === undefined ? 'ignore' : new Blob([options.stdin]),
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { exitCode, stdout, stderr }
}

/** A user with their own config dir, signed up through `zap signup`. */
export async function signedUpUser(apiUrl: string, command = ['bun', binPath]) {
  const env = cleanEnv(apiUrl)
  const email = `ada-${crypto.randomUUID()}@example.com`
  const zap = (args: string[], options?: ZapOptions) => runZap(command, args, env, options)
  const signup = await zap(['signup', '--email', email, '--name', 'Ada', '--password-stdin'], { stdin: 'correct horse battery\n' })
  if (signup.exitCode !== 0) throw new Error(`signup failed: ${signup.stderr}`)
  const { token } = await Bun.file(join(env.XDG_CONFIG_HOME, 'zap', 'config.json')).json()
  return { email, password: 'correct horse battery', token: token as string, env, zap, zapJson: async (args: string[], options?: ZapOptions) => parseJson(await zap([...args, '--json'], options)) }
}

export function parseJson(result: ZapResult) {
  if (result.exitCode !== 0) throw new Error(`zap exited ${result.exitCode}: ${result.stderr}`)
  return JSON.parse(result.stdout)
}

export const logStep = (message = 'hi {{trigger.body.name}}') => `log:${JSON.stringify({ message })}`
