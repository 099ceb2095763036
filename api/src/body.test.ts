import { describe, expect, test } from 'bun:test'
import { api, call, signUp, sql } from '@zap/testkit/http'

const logSteps = [{ type: 'log', config: { message: 'hi' } }]
const countZaps = async (userId: string) => Number((await sql`select count(*) from zaps where user_id = ${userId}`)[0]!.count)

describe('request bodies', () => {
  test('a body over 256 KiB is 413 body_too_large, with or without a token, and stores nothing', async () => {
    const { token, user } = await signUp()
    const body = JSON.stringify({ name: 'x'.repeat(256 * 1024), steps: logSteps })
    for (const headers of [{ authorization: `Bearer ${token}` }, {}] as Record<string, string>[]) {
      const response = await call(api, 'POST', '/api/v1/zaps', { body, headers: { ...headers, 'content-type': 'application/json' } })
      expect(response.status).toBe(413)
      expect(response.body.error.code).toBe('body_too_large')
    }
    expect(await countZaps(user.id)).toBe(0)
  })

  test('a streamed body without a length is cut off at the limit too', async () => {
    const chunk = new TextEncoder().encode(' '.repeat(64 * 1024))
    const stream = new ReadableStream({
      start(controller) {
        for (let i = 0; i < 5; i++) controller.enqueue(chunk)
        controller.close()
      },
    })
    const response = await api.handle(new Request('http://localhost/api/v1/auth/login', { method: 'POST', body: stream, headers: { 'content-type': 'application/json' } }))
    expect(response.status).toBe(413)
  })

  test('JSON nested past 64 levels is 400 json_too_deep on every route, before authentication', async () => {
    const deep = '['.repeat(20_000) + ']'.repeat(20_000)
    const routes = [
      ['POST', '/api/v1/auth/signup'],
      ['POST', '/api/v1/auth/login'],
      ['POST', '/api/v1/zaps'],
      ['PATCH', `/api/v1/zaps/${Bun.randomUUIDv7()}`],
      ['POST', '/api/v1/runs/replay'],
      ['POST', `/api/v1/runs/${Bun.randomUUIDv7()}/replay`],
    ]
    for (const [method, path] of routes) {
      const response = await call(api, method!, path!, { body: deep, headers: { 'content-type': 'application/json' } })
      expect(response.status).toBe(400)
      expect(response.body.error.code).toBe('json_too_deep')
    }
  })

  test('64 levels are accepted as far as nesting goes', async () => {
    const { token } = await signUp()
    const nested = JSON.parse('{"a":'.repeat(60) + '1' + '}'.repeat(60))
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'deep', steps: [{ type: 'transform', config: { output: nested } }] } })
    expect(response.status).toBe(201)
  })

  test('a body that is not JSON is 415', async () => {
    const { token } = await signUp()
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: 'name=x', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(response.status).toBe(415)
    expect(response.body.error.code).toBe('unsupported_media_type')
  })

  test('without a token an invalid body is 401, not a validation error', async () => {
    const response = await call(api, 'POST', '/api/v1/zaps', { body: { name: 7, steps: 'nope' } })
    expect(response.status).toBe(401)
  })

  test('validation errors do not repeat the received value', async () => {
    const { token } = await signUp()
    const marker = `marker-${'z'.repeat(5000)}`
    const cases = [
      { name: 'ok', steps: [{ type: marker, config: {} }] },
      { name: 'ok', steps: logSteps, enabled: marker },
      { name: 'ok', steps: [{ type: 'filter', config: { conditions: [{ left: 1, op: marker }] } }] },
      { name: 'ok', steps: [{ type: 'log', config: { message: 'x', [marker]: 1 } }] },
    ]
    for (const body of cases) {
      const response = await call(api, 'POST', '/api/v1/zaps', { token, body })
      expect(response.status).toBe(400)
      // A key is named where it is wrong, cut to 40 characters.
      expect(JSON.stringify(response.body)).not.toContain('z'.repeat(41))
    }
    const replay = await call(api, 'POST', '/api/v1/runs/replay', { token, body: { status: marker } })
    expect(replay.status).toBe(400)
    expect(JSON.stringify(replay.body)).not.toContain('marker-zzz')
  })

  const unstorable: [string, string, (token: string) => unknown][] = [
    ['a NUL in a signup name', '/api/v1/auth/signup', () => ({ email: `nul-${crypto.randomUUID()}@example.com`, password: 'long enough password', name: 'a\u0000b' })],
    ['a lone surrogate in a signup name', '/api/v1/auth/signup', () => ({ email: `sur-${crypto.randomUUID()}@example.com`, password: 'long enough password', name: 'a\ud800' })],
    ['a NUL in a zap name', '/api/v1/zaps', () => ({ name: 'a\u0000', steps: logSteps })],
    ['a NUL in a secret', '/api/v1/zaps', () => ({ name: 'n', steps: logSteps, secret: 'sixteen-chars-long\u0000' })],
    ['a lone surrogate deep in a step config', '/api/v1/zaps', () => ({ name: 'n', steps: [{ type: 'transform', config: { output: { a: ['\udc00'] } } }] })],
    ['a NUL in a key', '/api/v1/zaps', () => ({ name: 'n', steps: [{ type: 'transform', config: { output: { 'k\u0000': 1 } } }] })],
  ]
  for (const [what, path, body] of unstorable) {
    test(`${what} is 400 invalid_text and stores nothing`, async () => {
      const { token, user } = await signUp()
      const usersBefore = Number((await sql`select count(*) from users`)[0]!.count)
      const response = await call(api, 'POST', path, { token, body: body(token) })
      expect(response.status).toBe(400)
      expect(response.body.error.code).toBe('invalid_text')
      expect(await countZaps(user.id)).toBe(0)
      if (path.endsWith('signup')) expect(Number((await sql`select count(*) from users`)[0]!.count)).toBe(usersBefore)
    })
  }
})
