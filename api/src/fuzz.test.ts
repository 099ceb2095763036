import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { SignJWT } from 'jose'
import { startService, type RunningService } from '@zap/testkit/services'
import {
  contentType,
  expectWellFormedRefusalOrSuccess,
  extraHeaders,
  fuzzParameters,
  healthLatenciesDuring,
  hostileBody,
  pathId,
  expectHealthStayedFast,
  storedCounts,
} from '@zap/testkit/fuzz'

// The API and hooks as real processes; the fuzzer sends to the API while both answer /healthz.
let api: RunningService
let hooks: RunningService
let token = ''
let foreignToken = ''

beforeAll(async () => {
  ;[api, hooks] = await Promise.all([startService('api'), startService('hooks')])
  const email = `fuzz-${crypto.randomUUID()}@example.com`
  const signup = await fetch(`${api.url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email, password: 'fuzzing password', name: 'Fuzz' }),
  })
  token = ((await signup.json()) as { token: string }).token
  const secret = new TextEncoder().encode('test-secret-that-is-long-enough-for-hs256')
  foreignToken = await new SignJWT({ sub: 'not-a-uuid' }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret)
})

afterAll(async () => {
  await Promise.all([api?.stop(), hooks?.stop()])
})

const routes: [string, (id: string) => string][] = [
  ['POST', () => '/api/v1/auth/signup'],
  ['POST', () => '/api/v1/auth/login'],
  ['GET', () => '/api/v1/me'],
  ['GET', () => '/api/v1/catalog'],
  ['POST', () => '/api/v1/zaps'],
  ['GET', () => '/api/v1/zaps'],
  ['GET', (id) => `/api/v1/zaps/${id}`],
  ['PATCH', (id) => `/api/v1/zaps/${id}`],
  ['GET', (id) => `/api/v1/zaps/${id}/rejections`],
  ['DELETE', (id) => `/api/v1/zaps/${id}`],
  ['GET', (id) => `/api/v1/runs?zapId=${id}&limit=${id}&status=${id}&cursor=${id}`],
  ['GET', (id) => `/api/v1/runs/${id}`],
  ['POST', () => '/api/v1/runs/replay'],
  ['POST', (id) => `/api/v1/runs/${id}/replay`],
  ['PUT', (id) => `/api/v1/zaps/${id}`],
]

const authorization = fc.constantFrom('valid', 'none', 'garbage', 'foreign')

describe('fuzzing the API', () => {
  test('random bodies, headers, content types and ids: never 5xx, never a stack, 4xx well formed and storing nothing; /healthz stays fast', async () => {
    const latencies = await healthLatenciesDuring([api.url!, hooks.url!], async () => {
      await fc.assert(
        fc.asyncProperty(fc.constantFrom(...routes), pathId, authorization, hostileBody, contentType, extraHeaders, async ([method, path], id, auth, body, type, headers) => {
          const url = `${api.url}${path(encodeURIComponent(id))}`
          const sent: Record<string, string> = { ...headers }
          if (type !== undefined) sent['content-type'] = type
          if (auth === 'valid') sent.authorization = `Bearer ${token}`
          if (auth === 'garbage') sent.authorization = `Bearer ${id}`
          if (auth === 'foreign') sent.authorization = `Bearer ${foreignToken}`
          const before = await storedCounts()
          const response = await fetch(url, { method, headers: sent, body: method === 'GET' ? undefined : body })
          const text = await response.text()
          expectWellFormedRefusalOrSuccess(`${method} ${path(id.slice(0, 40))}`, response.status, text)
          if (response.status >= 400) expect(await storedCounts()).toBe(before)
        }),
        fuzzParameters,
      )
    })
    expectHealthStayedFast(latencies)
  }, 600_000)
})
