import { describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'

const countRuns = async (zapId: string) => Number((await sql`select count(*) from runs where zap_id = ${zapId}`)[0]!.count)
const countOutbox = async (zapId: string) =>
  Number((await sql`select count(*) from outbox o join runs r on r.id = o.run_id where r.zap_id = ${zapId}`)[0]!.count)

async function storedTrigger(runId: string) {
  const [run] = await sql`select trigger_body, trigger_content_type, trigger_query from runs where id = ${runId}`
  return run!
}

describe('webhook ingestion', () => {
  test('a JSON webhook is 202 with the run id, stored with its outbox row', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { order: 42 } })
    expect(response.status).toBe(202)
    expect(response.body.runId).toBeString()
    expect(await storedTrigger(response.body.runId)).toMatchObject({ trigger_body: { order: 42 }, trigger_content_type: 'application/json' })
    const [outbox] = await sql`select step_index, attempt from outbox where run_id = ${response.body.runId}`
    expect(outbox).toMatchObject({ step_index: 0, attempt: 1 })
  })

  test('PUT and PATCH are accepted too', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    expect((await call(hooks, 'PUT', `/hooks/${zap.id}`, { body: { a: 1 } })).status).toBe(202)
    expect((await call(hooks, 'PATCH', `/hooks/${zap.id}`, { body: { a: 1 } })).status).toBe(202)
    expect(await countRuns(zap.id)).toBe(2)
  })

  test('form-encoded bodies become objects and plain text stays text', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const form = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: 'name=Ada&lang=en', headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect((await storedTrigger(form.body.runId)).trigger_body).toEqual({ name: 'Ada', lang: 'en' })
    const text = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: 'hello there', headers: { 'content-type': 'text/plain' } })
    expect((await storedTrigger(text.body.runId)).trigger_body).toBe('hello there')
  })

  test('the catch URL with the owner id is an alias; another owner is 404', async () => {
    const { token, user } = await signUp()
    const other = await signUp('Other')
    const zap = await createZap(token)
    expect((await call(hooks, 'POST', `/hooks/catch/${user.id}/${zap.id}`, { body: { a: 1 } })).status).toBe(202)
    expect((await call(hooks, 'POST', `/hooks/catch/${other.user.id}/${zap.id}`, { body: { a: 1 } })).status).toBe(404)
    expect(await countRuns(zap.id)).toBe(1)
  })

  test('an unknown zap is 404 and a deleted one stops accepting', async () => {
    const { token } = await signUp()
    expect((await call(hooks, 'POST', `/hooks/${Bun.randomUUIDv7()}`, { body: {} })).status).toBe(404)
    expect((await call(hooks, 'POST', '/hooks/not-a-uuid', { body: {} })).status).toBe(404)
    const zap = await createZap(token)
    await call(api, 'DELETE', `/api/v1/zaps/${zap.id}`, { token })
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
    expect(response.status).toBe(404)
    expect(response.body.error.code).toBe('not_found')
    expect(await countRuns(zap.id)).toBe(0)
  })

  test('a disabled zap is 409 zap_disabled and stores nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { enabled: false })
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
    expect(response.status).toBe(409)
    expect(response.body.error.code).toBe('zap_disabled')
    expect(await countRuns(zap.id)).toBe(0)
  })

  test('a body over the limit is 413 even without a Content-Length, and stores nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const big = new Uint8Array(64 * 1024 + 1).fill(97)
    const stream = new ReadableStream({
      start(controller) {
        for (let offset = 0; offset < big.length; offset += 8192) controller.enqueue(big.subarray(offset, offset + 8192))
        controller.close()
      },
    })
    const request = new Request(`http://localhost/hooks/${zap.id}`, { method: 'POST', body: stream, headers: { 'content-type': 'text/plain' } })
    const response = await hooks.handle(request)
    expect(response.status).toBe(413)
    expect((await call(hooks, 'POST', `/hooks/${zap.id}`, { body: 'x'.repeat(64 * 1024), headers: { 'content-type': 'text/plain' } })).status).toBe(202)
    expect(await countRuns(zap.id)).toBe(1)
  })

  const unstorable: [string, { body: string; contentType: string; query?: string }, string][] = [
    ['a NUL in a JSON string', { body: '{"a":"x\\u0000y"}', contentType: 'application/json' }, 'body.a'],
    ['a NUL in a JSON key', { body: '{"b":{"x\\u0000":1}}', contentType: 'application/json' }, 'body.b.x?'],
    ['a lone surrogate in JSON', { body: '["ok","\\ud800"]', contentType: 'application/json' }, 'body.1'],
    ['a NUL in a text body', { body: 'a\u0000b', contentType: 'text/plain' }, 'body'],
    ['a NUL in a form field', { body: 'name=%00', contentType: 'application/x-www-form-urlencoded' }, 'body.name'],
    ['a NUL in the query string', { body: '{}', contentType: 'application/json', query: '?q=%00' }, 'query.q'],
  ]
  for (const [what, request, path] of unstorable) {
    test(`${what} is 400 invalid_text naming where, and stores nothing`, async () => {
      const { token } = await signUp()
      const zap = await createZap(token)
      const response = await call(hooks, 'POST', `/hooks/${zap.id}${request.query ?? ''}`, { body: request.body, headers: { 'content-type': request.contentType } })
      expect(response.status).toBe(400)
      expect(response.body.error).toMatchObject({ code: 'invalid_text' })
      expect(response.body.error.message).toStartWith(`${path} contains`)
      expect(await countRuns(zap.id)).toBe(0)
    })
  }

  test('JSON nested deeper than the limit is 400 json_too_deep at once, even 30,000 levels', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    for (const levels of [129, 30_000]) {
      const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: '['.repeat(levels) + ']'.repeat(levels), headers: { 'content-type': 'application/json' } })
      expect(response.status).toBe(400)
      expect(response.body.error.code).toBe('json_too_deep')
    }
    const allowed = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: '{"a":'.repeat(127) + '[]' + '}'.repeat(127), headers: { 'content-type': 'application/json' } })
    expect(allowed.status).toBe(202)
    expect(await countRuns(zap.id)).toBe(1)
  })

  test('brackets inside strings do not count as nesting', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: JSON.stringify({ text: '[{'.repeat(1000) + '\\"[' }), headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(202)
  })

  test('malformed JSON is 400 and stores nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: '{"a":', headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(400)
    expect(response.body.error.code).toBe('invalid_json')
    expect(await countRuns(zap.id)).toBe(0)
  })
})

describe('sensitive headers', () => {
  const credentials = { authorization: 'Bearer sender-token', cookie: 'session=abc', 'proxy-authorization': 'Basic eDp5', 'x-source': 'shop' }

  test('authorization, cookie and proxy-authorization are not stored or shown by default', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 }, headers: credentials })
    const [run] = await sql`select trigger_headers from runs where id = ${response.body.runId}`
    expect(run!.trigger_headers['x-source']).toBe('shop')
    for (const name of ['authorization', 'cookie', 'proxy-authorization']) expect(run!.trigger_headers[name]).toBeUndefined()
    const shown = await call(api, 'GET', `/api/v1/runs/${response.body.runId}`, { token })
    expect(JSON.stringify(shown.body)).not.toContain('sender-token')
  })

  test('a zap with keepSensitiveHeaders keeps them', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { keepSensitiveHeaders: true })
    const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 }, headers: credentials })
    const shown = await call(api, 'GET', `/api/v1/runs/${response.body.runId}`, { token })
    expect(shown.body.run.trigger.headers).toMatchObject(credentials)
    const off = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { keepSensitiveHeaders: false } })
    expect(off.body.zap.keepSensitiveHeaders).toBe(false)
    const later = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 }, headers: credentials })
    const [run] = await sql`select trigger_headers from runs where id = ${later.body.runId}`
    expect(run!.trigger_headers.authorization).toBeUndefined()
  })
})

describe('idempotency keys', () => {
  test('a key longer than 255 bytes is 400 and stores nothing; 255 bytes is accepted', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    for (const key of ['k'.repeat(7000), 'é'.repeat(128)]) {
      const response = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {}, headers: { 'idempotency-key': key } })
      expect(response.status).toBe(400)
      expect(response.body.error.code).toBe('invalid_idempotency_key')
      expect(JSON.stringify(response.body)).not.toContain(key)
    }
    const longWebhookId = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {}, headers: { 'webhook-id': 'w'.repeat(256) } })
    expect(longWebhookId.status).toBe(400)
    expect(await countRuns(zap.id)).toBe(0)
    expect((await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {}, headers: { 'idempotency-key': 'k'.repeat(255) } })).status).toBe(202)
  })

  test('a repeat with the same key is 200 with the first run id and stores nothing new', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const headers = { 'idempotency-key': 'order-1' }
    const first = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 }, headers })
    const second = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 2 }, headers })
    expect(first.status).toBe(202)
    expect(second.status).toBe(200)
    expect(second.body.runId).toBe(first.body.runId)
    expect(await countRuns(zap.id)).toBe(1)
    expect(await countOutbox(zap.id)).toBe(1)
  })

  test('webhook-id counts as the key, scoped to the zap', async () => {
    const { token } = await signUp()
    const one = await createZap(token)
    const two = await createZap(token)
    const headers = { 'webhook-id': 'msg_1' }
    expect((await call(hooks, 'POST', `/hooks/${one.id}`, { body: {}, headers })).status).toBe(202)
    expect((await call(hooks, 'POST', `/hooks/${one.id}`, { body: {}, headers })).status).toBe(200)
    expect((await call(hooks, 'POST', `/hooks/${two.id}`, { body: {}, headers })).status).toBe(202)
  })

  test('concurrent requests with one key produce exactly one run', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const responses = await Promise.all(
      Array.from({ length: 20 }, () => call(hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 }, headers: { 'idempotency-key': 'race' } })),
    )
    const statuses = responses.map((response) => response.status).sort()
    expect(statuses.filter((status) => status === 202)).toHaveLength(1)
    expect(statuses.filter((status) => status === 200)).toHaveLength(19)
    expect(new Set(responses.map((response) => response.body.runId)).size).toBe(1)
    expect(await countRuns(zap.id)).toBe(1)
    expect(await countOutbox(zap.id)).toBe(1)
  })
})
