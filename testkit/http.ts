import { connect } from '@zap/sql/db'
import { createApi, type ApiOptions } from '@zap/api/app'
import { createHooks } from '@zap/hooks/app'
import { requireEnv } from './services.ts'
import { createLogger } from '@zap/lib/log'
import { watchDatabase } from '@zap/lib/health'

export const databaseUrl = requireEnv('DATABASE_URL')

/** Test apps on the database `bun run test` prepared, driven through `app.handle`. */
export const sql = connect(databaseUrl)
export const auth = { secret: 'test-secret-that-is-long-enough-for-hs256', ttlSeconds: 3600 }
export const hooksUrl = 'http://hooks.test'
export const log = createLogger('test', { level: 'warn', pretty: false })
// Test apps sign up and log in far more often than a person: the limits themselves are tested in api/src/rate-limits.test.ts.
const roomy = { requests: 1_000_000, perSeconds: 60 }
const database = watchDatabase(sql, log)
export const apiOptions = {
  sql,
  database,
  databaseTimeoutMs: 30_000,
  auth,
  hooksUrl,
  smtpConfigured: true,
  targetScope: 'private' as const,
  log,
  bodyLimits: { maxBytes: 256 * 1024, maxJsonDepth: 64 },
  rateLimits: { loginPerIp: roomy, loginPerAccount: roomy, loginSlowdownPerAccountAddress: roomy, signupPerIp: roomy, signupPerAccount: roomy },
  scheduleLimits: { minIntervalSeconds: 60 },
}
export const api = createApi(apiOptions)
/** A test API with some settings changed, as an operator may set them. */
export const apiWith = (options: Partial<ApiOptions>) => createApi({ ...apiOptions, ...options })
export const hooks = createHooks({
  sql,
  database,
  maxBodyBytes: 64 * 1024,
  maxJsonDepth: 128,
  webhookRateLimit: roomy,
  userWebhookRateLimit: roomy,
  ingestLimits: { timeoutMs: 10_000, maxPending: 1_000, batchMs: 1, maxBatch: 100 },
  log,
})

type App = { handle: (request: Request) => Response | Promise<Response> }
type CallOptions = { token?: string; body?: unknown; headers?: Record<string, string> }

export async function call(app: App, method: string, path: string, options: CallOptions = {}) {
  const headers: Record<string, string> = { ...options.headers }
  if (options.token) headers.authorization = `Bearer ${options.token}`
  let body: string | undefined
  if (typeof options.body === 'string') body = options.body
  else if (options.body !== undefined) {
    body = JSON.stringify(options.body)
    headers['content-type'] ??= 'application/json'
  }
  const response = await app.handle(new Request(`http://localhost${path}`, { method, headers, body }))
  const text = await response.text()
  return { status: response.status, headers: response.headers, body: text ? JSON.parse(text) : null }
}

export async function signUp(name = 'Ada') {
  const email = `${name.toLowerCase()}-${crypto.randomUUID()}@example.com`
  const response = await call(api, 'POST', '/api/v1/auth/signup', { body: { email, password: 'correct horse battery', name } })
  if (response.status !== 201) throw new Error(`signup failed: ${JSON.stringify(response.body)}`)
  return { email, password: 'correct horse battery', token: response.body.token as string, user: response.body.user as { id: string } }
}

export async function createZap(token: string, input: Record<string, unknown> = {}) {
  const response = await call(api, 'POST', '/api/v1/zaps', {
    token,
    body: { name: 'test zap', steps: [{ type: 'log', config: { message: 'hi {{trigger.body.name}}' } }], ...input },
  })
  if (response.status !== 201) throw new Error(`create zap failed: ${JSON.stringify(response.body)}`)
  return response.body.zap as { id: string; version: number; webhookUrl: string }
}
