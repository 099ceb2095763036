import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import fc from 'fast-check'
import { createZap, signUp } from '@zap/testkit/http'
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

// hooks as a real process with its default limits; zaps of every kind to aim at.
let hooks: RunningService
let zapIds: string[] = []
let ownerId = ''

beforeAll(async () => {
  hooks = await startService('hooks')
  const { token, user } = await signUp('Fuzz')
  ownerId = user.id
  const zaps = await Promise.all([
    createZap(token),
    createZap(token, { secret: 'whsec_' + Buffer.from('a fuzzing secret of some length').toString('base64') }),
    createZap(token, { enabled: false }),
    createZap(token, { keepSensitiveHeaders: true }),
  ])
  zapIds = zaps.map((zap) => zap.id)
})

afterAll(async () => {
  await hooks?.stop()
})

describe('fuzzing hooks', () => {
  test('random bodies, headers, content types, queries and ids: never 5xx, never a stack, 4xx well formed and storing nothing; /healthz stays fast', async () => {
    const target = fc.oneof(fc.constantFrom(...zapIds), pathId)
    const query = fc.dictionary(fc.string({ maxLength: 10 }), fc.oneof(fc.string({ maxLength: 20 }), fc.constantFrom('%00', '%ED%A0%80', '%')), { maxKeys: 3 })
    const latencies = await healthLatenciesDuring([hooks.url!], async () => {
      await fc.assert(
        fc.asyncProperty(
          fc.constantFrom('POST', 'PUT', 'PATCH', 'GET', 'DELETE'),
          fc.boolean(),
          target,
          query,
          hostileBody,
          contentType,
          extraHeaders,
          async (method, byOwner, zapId, params, body, type, headers) => {
            const path = byOwner ? `/hooks/catch/${ownerId}/${encodeURIComponent(zapId)}` : `/hooks/${encodeURIComponent(zapId)}`
            const search = Object.entries(params).map(([name, value]) => `${encodeURIComponent(name)}=${value}`).join('&')
            const sent: Record<string, string> = { ...headers }
            if (type !== undefined) sent['content-type'] = type
            const before = await storedCounts()
            const response = await fetch(`${hooks.url}${path}?${search}`, { method, headers: sent, body: method === 'GET' ? undefined : body })
            const text = await response.text()
            expectWellFormedRefusalOrSuccess(`${method} ${path.slice(0, 80)}`, response.status, text)
            if (response.status >= 400) expect(await storedCounts()).toBe(before)
          },
        ),
        fuzzParameters,
      )
    })
    expectHealthStayedFast(latencies)
  }, 600_000)
})
