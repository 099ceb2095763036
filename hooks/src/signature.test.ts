import { describe, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { sign, verifySignature } from './signature.ts'

// The test vector published with the Standard Webhooks specification.
const specSecret = 'whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'
const specId = 'msg_p5jXN8AQM9LWM0D4loKWxJek'
const specTimestamp = 1614265330
const specBody = '{"test": 2432232314}'
const specSignature = 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE='

describe('Standard Webhooks signatures', () => {
  test('the specification’s test vector verifies', () => {
    expect(sign(specSecret, specId, specTimestamp, specBody)).toBe(specSignature)
    const headers = { id: specId, timestamp: String(specTimestamp), signature: specSignature }
    expect(verifySignature(specSecret, headers, new TextEncoder().encode(specBody), specTimestamp * 1000)).toBeNull()
  })

  test('a stale timestamp fails even with a valid signature', () => {
    const headers = { id: specId, timestamp: String(specTimestamp), signature: specSignature }
    expect(verifySignature(specSecret, headers, new TextEncoder().encode(specBody), (specTimestamp + 301) * 1000)).toContain('timestamp')
  })
})

describe('signed zaps', () => {
  const secret = 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ='

  async function signedZap() {
    const { token } = await signUp()
    return createZap(token, { secret })
  }

  function signedHeaders(body: string, options: { secret?: string; timestamp?: number; id?: string } = {}) {
    const id = options.id ?? `msg_${crypto.randomUUID()}`
    const timestamp = options.timestamp ?? Math.floor(Date.now() / 1000)
    return {
      'content-type': 'application/json',
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': sign(options.secret ?? secret, id, timestamp, body),
    }
  }

  const send = (zapId: string, body: string, headers: Record<string, string>) => call(hooks, 'POST', `/hooks/${zapId}`, { body, headers })
  const runCount = async (zapId: string) => Number((await sql`select count(*) from runs where zap_id = ${zapId}`)[0]!.count)

  test('a valid signature is accepted', async () => {
    const zap = await signedZap()
    const body = '{"paid":true}'
    expect((await send(zap.id, body, signedHeaders(body))).status).toBe(202)
  })

  test('one valid signature among several is accepted', async () => {
    const zap = await signedZap()
    const body = '{"paid":true}'
    const headers = signedHeaders(body)
    const wrong = sign('another-secret-entirely', headers['webhook-id'], Number(headers['webhook-timestamp']), body)
    headers['webhook-signature'] = `${wrong} v1a,ignored ${headers['webhook-signature']}`
    expect((await send(zap.id, body, headers)).status).toBe(202)
  })

  const rejected: [string, (body: string) => [string, Record<string, string>]][] = [
    ['a tampered body', (body) => [body.replace('true', 'false'), signedHeaders(body)]],
    ['the wrong secret', (body) => [body, signedHeaders(body, { secret: 'whsec_d3JvbmctZ3Vlc3MtMTIzNDU2Nzg=' })]],
    ['a stale timestamp', (body) => [body, signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) - 301 })]],
    ['a future timestamp', (body) => [body, signedHeaders(body, { timestamp: Math.floor(Date.now() / 1000) + 301 })]],
    ['missing headers', (body) => [body, { 'content-type': 'application/json' }]],
    ['a malformed signature', (body) => [body, { ...signedHeaders(body), 'webhook-signature': 'v1,%%%' }]],
  ]

  for (const [what, make] of rejected) {
    test(`${what} is 401 and stores nothing`, async () => {
      const zap = await signedZap()
      const [body, headers] = make('{"paid":true}')
      const response = await send(zap.id, body, headers)
      expect(response.status).toBe(401)
      expect(response.body.error.code).toBe('invalid_signature')
      expect(await runCount(zap.id)).toBe(0)
    })
  }
})
