import { join } from 'node:path'
import type { Subprocess } from 'bun'
import { freePort } from '@zap/lib/ports'

export { freePort }

const root = join(import.meta.dir, '..')

export type Service = 'api' | 'hooks' | 'processor' | 'worker'

export type RunningService = {
  process: Subprocess
  port?: number
  url?: string
  output: () => string
  stop: (signal?: NodeJS.Signals) => Promise<number>
}

/** A variable `bun run test` sets; read when first needed, so callers that pass their own never need it. */
export function requireEnv(name: string) {
  const value = Bun.env[name]
  if (!value) throw new Error(`${name} is not set: run the tests with \`bun run test\`, which starts PostgreSQL and Kafka`)
  return value
}

/**
 * JavaScriptCore settings every service runs with, as the Dockerfile and the `start:*` scripts set
 * them (they are read when the engine starts, so they can only come from the environment): no FTL
 * tier, and a heap that grows to 1.6x what survived the last collection. See the docs/performance.md.
 */
export const runtimeEnv = { BUN_JSC_useFTLJIT: '0', BUN_JSC_heapGrowthMaxIncrease: '0.6' }

const testEnv = (env: Record<string, string>) => ({
  DATABASE_URL: env.DATABASE_URL ?? requireEnv('DATABASE_URL'),
  KAFKA_BROKERS: env.KAFKA_BROKERS ?? requireEnv('KAFKA_BROKERS'),
  JWT_SECRET: 'test-secret-that-is-long-enough-for-hs256',
  ALLOW_PRIVATE_TARGETS: 'true',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  DATABASE_POOL_SIZE: '5',
  LOGIN_RATE_LIMIT_PER_IP: '1000000/1m',
  LOGIN_RATE_LIMIT_PER_ACCOUNT: '1000000/1m',
  SIGNUP_RATE_LIMIT_PER_IP: '1000000/1m',
  SIGNUP_RATE_LIMIT_PER_ACCOUNT: '1000000/1m',
  WEBHOOK_RATE_LIMIT: '1000000000/1m',
  USER_WEBHOOK_RATE_LIMIT: '1000000000/1m',
})

/**
 * Starts one service as its own process, the way `bun run start:<name>` does, and waits until it is up
 * (a worker is up once its consumer joined the group, which waits for a dead member's session to end).
 * `checkout` runs the service of another checkout of zap (the bench compares against an earlier commit).
 */
export async function startService(name: Service, env: Record<string, string> = {}, readyTimeoutMs = 20_000, checkout = root): Promise<RunningService> {
  const service = await launchService(name, env, checkout)
  try {
    await waitUntil(async () => {
      if (service.process.exitCode !== null) throw new Error(`${name} exited with ${service.process.exitCode}:\n${service.output()}`)
      if (service.url) return (await fetch(`${service.url}/healthz`).catch(() => null))?.ok === true
      return service.output().includes('ready')
    }, `${name} to start`, readyTimeoutMs)
  } catch (error) {
    await stopProcess(service.process, 'SIGKILL')
    throw error
  }
  return service
}

/** Starts one service as its own process without waiting for anything: for a start while a dependency is away. */
export async function launchService(name: Service, env: Record<string, string> = {}, checkout = root): Promise<RunningService> {
  const portVariable = name === 'api' ? 'API_PORT' : name === 'hooks' ? 'HOOKS_PORT' : undefined
  const port = portVariable ? Number(env[portVariable] ?? (await freePort())) : undefined
  const fullEnv = { ...runtimeEnv, ...Bun.env, ...testEnv(env), ...env, ...(portVariable ? { [portVariable]: String(port) } : {}) }
  const child = Bun.spawn(['bun', join(checkout, name, 'src', 'main.ts')], { env: fullEnv, stdout: 'pipe', stderr: 'pipe' })
  let output = ''
  const collect = async (stream: ReadableStream<Uint8Array>) => {
    for await (const chunk of stream) output += new TextDecoder().decode(chunk)
  }
  void collect(child.stdout)
  void collect(child.stderr)
  return {
    process: child,
    port,
    url: port ? `http://127.0.0.1:${port}` : undefined,
    output: () => output,
    stop: (signal = 'SIGTERM') => stopProcess(child, signal),
  }
}

export async function waitUntil(check: () => Promise<boolean> | boolean, what: string | (() => string), timeoutMs = 20_000) {
  const deadline = Date.now() + timeoutMs
  while (Date.now() < deadline) {
    if (await check()) return
    await Bun.sleep(50)
  }
  throw new Error(`Timed out after ${timeoutMs} ms waiting for ${typeof what === 'string' ? what : what()}`)
}

/** Sends `signal`, and SIGKILL when the process has not exited `graceMs` later. */
export async function stopProcess(child: Subprocess, signal: NodeJS.Signals = 'SIGTERM', graceMs = 15_000) {
  child.kill(signal)
  const killLater = setTimeout(() => child.kill('SIGKILL'), graceMs)
  try {
    return await child.exited
  } finally {
    clearTimeout(killLater)
  }
}

/** A JSON request to a running service, with an optional bearer token; the answer's body parsed. */
export async function fetchJson(url: string, init: RequestInit & { token?: string } = {}) {
  const headers = { 'content-type': 'application/json', ...(init.token ? { authorization: `Bearer ${init.token}` } : {}), ...(init.headers as Record<string, string>) }
  const response = await fetch(url, { ...init, headers })
  return { status: response.status, headers: response.headers, body: (await response.json()) as any }
}
