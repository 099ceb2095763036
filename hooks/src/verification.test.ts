import { describe, expect, test } from 'bun:test'
import { createHmac, generateKeyPairSync, randomBytes, sign as signEd25519 } from 'node:crypto'
import { Webhook as StandardWebhook } from 'standardwebhooks'
import { Webhook as SvixWebhook } from 'svix'
import { sign as signGithub } from '@octokit/webhooks-methods'
import Stripe from 'stripe'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { verifyStandardWebhooks } from './schemes/standard-webhooks.ts'
import { verifySlack } from './schemes/slack.ts'
import { verifyShopify } from './schemes/shopify.ts'

// Each sender's own library signs (the oracle); Slack and Shopify publish no library for it, so their
// documented algorithm is checked against their published example values first.

const stripe = new Stripe('sk_test_oracle')
const now = () => Math.floor(Date.now() / 1000)
const hex = () => randomBytes(24).toString('hex')
const whsec = () => `whsec_${randomBytes(24).toString('base64')}`
const whpk = (point: Buffer) => `whpk_${point.toString('base64')}`
// Public keys under which signatures mean nothing: the identity, a point of order 8, and bytes that are no point.
const identityPoint = Buffer.from('0100000000000000000000000000000000000000000000000000000000000000', 'hex')
const orderEightPoint = Buffer.from('c7176a703d4dd84fba3c0b760d10670f2a2053fa2c39ccc64ec7fd7792ac037a', 'hex')
const notAPoint = Buffer.from('edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f', 'hex')

describe('published example values', () => {
  test('the Standard Webhooks specification’s test vector verifies', () => {
    const setting = { scheme: 'standard-webhooks' as const, secrets: ['whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'], toleranceSeconds: 300 }
    const headers = new Headers({ 'webhook-id': 'msg_p5jXN8AQM9LWM0D4loKWxJek', 'webhook-timestamp': '1614265330', 'webhook-signature': 'v1,g0hM9SsE+OTPJTGt/tmIKtSyZlE3uFJELVlNIOLJ1OE=' })
    const body = new TextEncoder().encode('{"test": 2432232314}')
    expect(verifyStandardWebhooks(setting, { headers, body, now: 1614265330_000 })).toEqual({ ok: true, deliveryId: 'msg_p5jXN8AQM9LWM0D4loKWxJek' })
    expect(verifyStandardWebhooks(setting, { headers, body, now: 1614265631_000 })).toMatchObject({ ok: false, reason: expect.stringContaining('timestamp') })
  })

  test('Slack’s documented signing example verifies', () => {
    const body =
      'token=xyzz0WbapA4vBCDEFasx0q6G&team_id=T1DC2JH3J&team_domain=testteamnow&channel_id=G8PSS9T3V&channel_name=foobar&user_id=U2CERLKJA&user_name=roadrunner&command=%2Fwebhook-collect&text=&response_url=https%3A%2F%2Fhooks.slack.com%2Fcommands%2FT1DC2JH3J%2F397700885554%2F96rGlfmibIGlgcZRskXaIFfN&trigger_id=398738663015.47445629121.803a0bc887a14d10d2c447fce8b6703c'
    const headers = new Headers({ 'x-slack-request-timestamp': '1531420618', 'x-slack-signature': 'v0=a2114d57b48eac39b9ad189dd8316235a7b4a8d21a10bd27519666489c69b503' })
    const setting = { scheme: 'slack' as const, secrets: ['8f742231b10e8888abcd99yyyzzz85a5'], toleranceSeconds: 300 }
    expect(verifySlack(setting, { headers, body: new TextEncoder().encode(body), now: 1531420618_000 })).toMatchObject({ ok: true })
    expect(verifySlack(setting, { headers, body: new TextEncoder().encode(`${body}x`), now: 1531420618_000 })).toMatchObject({ ok: false })
  })

  test('Shopify’s documented example (secret "secret", body "foo") verifies', () => {
    const headers = new Headers({ 'x-shopify-hmac-sha256': 'dzukRpPHVT1u4g9h6l0nV6mk9KRNKEGuTpW1LkzWLbQ=', 'x-shopify-webhook-id': 'b54557e4' })
    const setting = { scheme: 'shopify' as const, secrets: ['secret'] }
    expect(verifyShopify(setting, { headers, body: new TextEncoder().encode('foo'), now: 0 })).toEqual({ ok: true, deliveryId: 'b54557e4' })
  })
})

type Signed = { id: string; timestamp?: number; secret: string; body: string }
type Preset = {
  name: string
  secrets: () => [string, string, string]
  verify: (secrets: string[]) => Record<string, unknown>
  sign: (message: Signed) => Promise<Record<string, string>>
  signatureHeader: string
  timestamped: boolean
}

// Slack's and Shopify's documented algorithms, as checked against their example values above.
const slackSignature = (secret: string, timestamp: number, body: string) => `v0=${createHmac('sha256', secret).update(`v0:${timestamp}:${body}`).digest('hex')}`
const shopifySignature = (secret: string, body: string) => createHmac('sha256', secret).update(body).digest('base64')

function standardWebhooksPreset(name: string, secret: () => string): Preset {
  return {
    name,
    secrets: () => [secret(), secret(), secret()],
    verify: (secrets) => ({ scheme: 'standard-webhooks', secrets }),
    sign: async ({ id, timestamp, secret, body }) => ({
      'webhook-id': id,
      'webhook-timestamp': String(timestamp),
      'webhook-signature': new StandardWebhook(secret).sign(id, new Date(timestamp! * 1000), body),
    }),
    signatureHeader: 'webhook-signature',
    timestamped: true,
  }
}

const presets: Preset[] = [
  standardWebhooksPreset('standard-webhooks', whsec),
  {
    name: 'standard-webhooks as Svix sends it',
    secrets: () => [whsec(), whsec(), whsec()],
    verify: (secrets) => ({ scheme: 'standard-webhooks', secrets }),
    sign: async ({ id, timestamp, secret, body }) => ({
      'svix-id': id,
      'svix-timestamp': String(timestamp),
      'svix-signature': new SvixWebhook(secret).sign(id, new Date(timestamp! * 1000), body),
    }),
    signatureHeader: 'svix-signature',
    timestamped: true,
  },
  standardWebhooksPreset('standard-webhooks with a secret without whsec_', () => randomBytes(32).toString('base64')),
  {
    name: 'github',
    secrets: () => [hex(), hex(), hex()],
    verify: (secrets) => ({ scheme: 'github', secrets }),
    sign: async ({ id, secret, body }) => ({ 'x-github-delivery': id, 'x-github-event': 'push', 'x-hub-signature-256': await signGithub(secret, body) }),
    signatureHeader: 'x-hub-signature-256',
    timestamped: false,
  },
  {
    name: 'stripe',
    secrets: () => [whsec(), whsec(), whsec()],
    verify: (secrets) => ({ scheme: 'stripe', secrets }),
    sign: async ({ timestamp, secret, body }) => ({ 'stripe-signature': await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret, timestamp }) }),
    signatureHeader: 'stripe-signature',
    timestamped: true,
  },
  {
    name: 'shopify',
    secrets: () => [hex(), hex(), hex()],
    verify: (secrets) => ({ scheme: 'shopify', secrets }),
    sign: async ({ id, secret, body }) => ({ 'x-shopify-webhook-id': id, 'x-shopify-topic': 'orders/create', 'x-shopify-hmac-sha256': shopifySignature(secret, body) }),
    signatureHeader: 'x-shopify-hmac-sha256',
    timestamped: false,
  },
  {
    name: 'slack',
    secrets: () => [hex(), hex(), hex()],
    verify: (secrets) => ({ scheme: 'slack', secrets }),
    sign: async ({ timestamp, secret, body }) => ({ 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(secret, timestamp!, body) }),
    signatureHeader: 'x-slack-signature',
    timestamped: true,
  },
  {
    name: 'hmac',
    secrets: () => [hex(), hex(), hex()],
    verify: (secrets) => ({
      scheme: 'hmac',
      secrets,
      header: 'x-signature',
      algorithm: 'sha512',
      encoding: 'base64',
      prefix: 'sha512=',
      signedContent: '{id}.{timestamp}.{body}',
      timestampHeader: 'x-timestamp',
      idHeader: 'x-delivery-id',
      toleranceSeconds: 120,
    }),
    sign: async ({ id, timestamp, secret, body }) => ({
      'x-delivery-id': id,
      'x-timestamp': String(timestamp),
      'x-signature': `sha512=${createHmac('sha512', secret).update(`${id}.${timestamp}.${body}`).digest('base64')}`,
    }),
    signatureHeader: 'x-signature',
    timestamped: true,
  },
]

const send = (zapId: string, body: string, headers: Record<string, string>, contentType = 'application/json') =>
  call(hooks, 'POST', `/hooks/${zapId}`, { body, headers: { 'content-type': contentType, ...headers } })
const runCount = async (zapId: string) => Number((await sql`select count(*) from runs where zap_id = ${zapId}`)[0]!.count)
const rejectionsOf = async (token: string, zapId: string) =>
  (await call(api, 'GET', `/api/v1/zaps/${zapId}/rejections`, { token })).body.rejections as { kind: string; reason: string; method: string; bodyPreview: string; bodyBytes: number }[]
// The delivery id travels where each sender puts it: a header, or the event in the body (Stripe's id, Slack's event_id).
const eventBody = (id: string, paid = true) => JSON.stringify({ id, event_id: id, type: 'order.paid', paid })

for (const preset of presets) {
  describe(`a zap verified by ${preset.name}`, () => {
    async function verifiedZap(secrets: string[]) {
      const { token } = await signUp()
      return { token, zap: await createZap(token, { verify: preset.verify(secrets) }) }
    }
    const signed = (secret: string, id = `evt_${crypto.randomUUID()}`, timestamp = now()) => {
      const body = eventBody(id)
      return preset.sign({ id, timestamp, secret, body }).then((headers) => ({ body, headers }))
    }

    test('a correctly signed request is accepted, and the same delivery again is the same run', async () => {
      const [secret] = preset.secrets()
      const { zap } = await verifiedZap([secret])
      const first = await signed(secret, 'evt_same')
      const accepted = await send(zap.id, first.body, first.headers)
      expect(accepted.status).toBe(202)
      const again = await signed(secret, 'evt_same')
      const repeated = await send(zap.id, again.body, again.headers)
      expect(repeated.status).toBe(200)
      expect(repeated.body).toEqual({ runId: accepted.body.runId, duplicate: true })
      expect(await runCount(zap.id)).toBe(1)
    })

    type Refusal = [string, (secrets: string[]) => Promise<{ body: string; headers: Record<string, string> }>, string]
    const refusals: Refusal[] = [
      ['a tampered body', async ([secret]) => ({ ...(await signed(secret!)), body: eventBody('evt_tampered', false) }), 'match'],
      ['the wrong secret', async ([, , wrong]) => signed(wrong!), 'match'],
      ['a missing signature header', async ([secret]) => {
        const { body, headers } = await signed(secret!)
        return { body, headers: Object.fromEntries(Object.entries(headers).filter(([name]) => name !== preset.signatureHeader)) }
      }, 'Missing'],
      ...(preset.timestamped ? [['a stale timestamp', async ([secret]) => signed(secret!, undefined, now() - 3600), 'away'] satisfies Refusal] : []),
    ]
    for (const [what, make, reason] of refusals) {
      test(`${what} is 401, recorded with its reason, and stores nothing`, async () => {
        const secrets = preset.secrets()
        const { token, zap } = await verifiedZap(secrets.slice(0, 2))
        const { body, headers } = await make(secrets)
        const response = await send(zap.id, body, headers)
        expect(response.status).toBe(401)
        expect(response.body.error.code).toBe('invalid_signature')
        expect(await runCount(zap.id)).toBe(0)
        const [rejection] = await rejectionsOf(token, zap.id)
        expect(rejection).toMatchObject({ method: 'POST', bodyBytes: body.length, bodyPreview: body })
        expect(rejection!.reason).toContain(reason)
        expect(rejection!.reason).toBe(response.body.error.message)
      })
    }

    test('while two secrets are configured, both are accepted (rotation)', async () => {
      const [oldSecret, newSecret] = preset.secrets()
      const { zap } = await verifiedZap([oldSecret, newSecret])
      for (const secret of [oldSecret, newSecret]) {
        const { body, headers } = await signed(secret)
        expect((await send(zap.id, body, headers)).status).toBe(202)
      }
      expect(await runCount(zap.id)).toBe(2)
    })

    test('a delivery id already seen does not excuse a bad signature', async () => {
      const [secret, , wrong] = preset.secrets()
      const { zap } = await verifiedZap([secret])
      const good = await signed(secret, 'evt_seen')
      expect((await send(zap.id, good.body, good.headers)).status).toBe(202)
      const forged = await signed(wrong, 'evt_seen')
      expect((await send(zap.id, forged.body, forged.headers)).status).toBe(401)
    })
  })
}

describe('dedupe by what is signed', () => {
  test('a signed message replayed with new Idempotency-Keys is one run', async () => {
    const secret = whsec()
    const { token } = await signUp()
    const zap = await createZap(token, { secret })
    const body = '{"paid":true}'
    const id = 'msg_replayed'
    const timestamp = now()
    const headers = { 'webhook-id': id, 'webhook-timestamp': String(timestamp), 'webhook-signature': new StandardWebhook(secret).sign(id, new Date(timestamp * 1000), body) }
    const first = await send(zap.id, body, headers)
    expect(first.status).toBe(202)
    for (const key of ['x1', 'x2', 'x3']) {
      const replay = await send(zap.id, body, { ...headers, 'idempotency-key': key })
      expect(replay.body).toEqual({ runId: first.body.runId, duplicate: true })
    }
    expect(await runCount(zap.id)).toBe(1)
  })

  test('identical HMAC-signed bodies without an id header are one run, whatever Idempotency-Key says', async () => {
    const secret = hex()
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'hmac', secrets: [secret], header: 'x-signature' } })
    const body = '{"tick":1}'
    const headers = { 'x-signature': createHmac('sha256', secret).update(body).digest('hex') }
    const first = await send(zap.id, body, headers)
    expect(first.status).toBe(202)
    expect((await send(zap.id, body, { ...headers, 'idempotency-key': 'other' })).body).toEqual({ runId: first.body.runId, duplicate: true })
  })

  test('an HMAC delivery whose id header is not signed is named by its signed timestamp and body: replayed with new ids it is one run', async () => {
    const secret = hex()
    const { token } = await signUp()
    const verify = { scheme: 'hmac', secrets: [secret], header: 'x-signature', signedContent: '{timestamp}.{body}', timestampHeader: 'x-timestamp', idHeader: 'x-delivery-id' }
    const zap = await createZap(token, { verify })
    const body = '{"paid":true}'
    const signedAt = (timestamp: number) => ({ 'x-timestamp': String(timestamp), 'x-signature': createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex') })
    const captured = signedAt(now())
    const first = await send(zap.id, body, { ...captured, 'x-delivery-id': 'd1' })
    expect(first.status).toBe(202)
    for (const id of ['d2', 'd3', 'd4']) {
      expect((await send(zap.id, body, { ...captured, 'x-delivery-id': id })).body).toEqual({ runId: first.body.runId, duplicate: true })
    }
    // The same body signed at another time is another delivery.
    expect((await send(zap.id, body, { ...signedAt(now() - 1), 'x-delivery-id': 'd5' })).status).toBe(202)
    expect(await runCount(zap.id)).toBe(2)
  })

  test('an HMAC id header that is signed names the delivery; signing neither id nor timestamp, the unsigned id does, as GitHub’s, so a replay with a new id is a new run', async () => {
    const secret = hex()
    const { token } = await signUp()
    const signedId = await createZap(token, { verify: { scheme: 'hmac', secrets: [secret], header: 'x-signature', signedContent: '{id}:{body}', idHeader: 'x-delivery-id' } })
    const body = '{"n":1}'
    const sign = (id: string) => ({ 'x-delivery-id': id, 'x-signature': createHmac('sha256', secret).update(`${id}:${body}`).digest('hex') })
    const first = await send(signedId.id, body, sign('d1'))
    expect((await send(signedId.id, body, sign('d1'))).body).toEqual({ runId: first.body.runId, duplicate: true })
    expect((await send(signedId.id, body, sign('d2'))).status).toBe(202)
    expect((await send(signedId.id, body, { ...sign('d1'), 'x-delivery-id': 'd3' })).status).toBe(401)

    const replayable = await createZap(token, { verify: { scheme: 'hmac', secrets: [secret], header: 'x-signature', idHeader: 'x-delivery-id' } })
    const bodySignature = { 'x-signature': createHmac('sha256', secret).update(body).digest('hex') }
    const original = await send(replayable.id, body, { ...bodySignature, 'x-delivery-id': 'd1' })
    expect((await send(replayable.id, body, { ...bodySignature, 'x-delivery-id': 'd1' })).body).toEqual({ runId: original.body.runId, duplicate: true })
    expect((await send(replayable.id, body, { ...bodySignature, 'x-delivery-id': 'd2' })).status).toBe(202)
  })

  test('a Stripe or Slack event replayed with another Content-Type is the same run: its id is read from the signed bytes as the sender sends them', async () => {
    const { token } = await signUp()
    const stripeSecret = whsec()
    const slackSecret = hex()
    const stripeZap = await createZap(token, { verify: { scheme: 'stripe', secrets: [stripeSecret] } })
    const slackZap = await createZap(token, { verify: { scheme: 'slack', secrets: [slackSecret] } })
    const body = eventBody('evt_relabelled')
    const timestamp = now()
    const senders: { zapId: string; headers: Record<string, string> }[] = [
      { zapId: stripeZap.id, headers: { 'stripe-signature': await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret: stripeSecret, timestamp }) } },
      { zapId: slackZap.id, headers: { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(slackSecret, timestamp, body) } },
    ]
    for (const { zapId, headers } of senders) {
      const first = await send(zapId, body, headers)
      expect(first.status).toBe(202)
      for (const contentType of ['text/plain', 'application/x-www-form-urlencoded', 'application/octet-stream']) {
        expect((await send(zapId, body, headers, contentType)).body).toEqual({ runId: first.body.runId, duplicate: true })
      }
      expect(await runCount(zapId)).toBe(1)
    }
  })

  test('basic and bearer senders keep their Idempotency-Key, and a wrong credential is refused', async () => {
    const { token } = await signUp()
    const basic = await createZap(token, { verify: { scheme: 'basic', secrets: ['sender:correct-horse-battery'] } })
    const bearer = await createZap(token, { verify: { scheme: 'bearer', secrets: ['tok_0123456789abcdef'] } })
    const basicAuth = (credentials: string) => ({ authorization: `Basic ${Buffer.from(credentials).toString('base64')}` })
    expect((await send(basic.id, '{}', { ...basicAuth('sender:correct-horse-battery'), 'idempotency-key': 'k1' })).status).toBe(202)
    expect((await send(basic.id, '{}', { ...basicAuth('sender:correct-horse-battery'), 'idempotency-key': 'k1' })).status).toBe(200)
    expect((await send(basic.id, '{}', { ...basicAuth('sender:correct-horse-batterx') })).status).toBe(401)
    expect((await send(basic.id, '{}', {})).status).toBe(401)
    expect((await send(bearer.id, '{}', { authorization: 'Bearer tok_0123456789abcdef' })).status).toBe(202)
    expect((await send(bearer.id, '{}', { authorization: 'Bearer tok_0123456789abcdeX' })).status).toBe(401)
    expect((await send(bearer.id, '{}', {})).status).toBe(401)
    expect(await runCount(basic.id)).toBe(1)
    expect(await runCount(bearer.id)).toBe(1)
    const [stored] = await sql`select trigger_headers from runs where zap_id = ${bearer.id}`
    expect(stored!.trigger_headers.authorization).toBeUndefined()
  })
})

describe('standard-webhooks with an ed25519 public key (v1a)', () => {
  test('a v1a signature by the matching private key is accepted; another key’s is 401', async () => {
    const { publicKey, privateKey } = generateKeyPairSync('ed25519')
    const other = generateKeyPairSync('ed25519')
    const raw = Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url')
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'standard-webhooks', publicKeys: [`whpk_${raw.toString('base64')}`] } })
    const body = '{"signed":"asymmetrically"}'
    const headersBy = (key: typeof privateKey, id: string) => {
      const timestamp = String(now())
      return { 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': `v1a,${signEd25519(null, Buffer.from(`${id}.${timestamp}.${body}`), key).toString('base64')}` }
    }
    expect((await send(zap.id, body, headersBy(privateKey, 'msg_1'))).status).toBe(202)
    expect((await send(zap.id, body, headersBy(other.privateKey, 'msg_2'))).status).toBe(401)
  })

  test('only the first five signatures are examined, and a webhook-signature over 1,024 characters is 401 before any is', async () => {
    const keys = Array.from({ length: 5 }, () => generateKeyPairSync('ed25519'))
    const [signer] = keys
    const { token } = await signUp()
    const publicKeys = keys.map(({ publicKey }) => `whpk_${Buffer.from(publicKey.export({ format: 'jwk' }).x!, 'base64url').toString('base64')}`)
    const zap = await createZap(token, { verify: { scheme: 'standard-webhooks', publicKeys } })
    const body = JSON.stringify({ padding: 'x'.repeat(60_000) })
    const timestamp = String(now())
    const signatureOf = (id: string) => `v1a,${signEd25519(null, Buffer.from(`${id}.${timestamp}.${body}`), signer!.privateKey).toString('base64')}`
    const forged = (n: number) => Array.from({ length: n }, (_, i) => `v1a,${Buffer.alloc(64, i + 1).toString('base64')}`)
    const headersWith = (id: string, signatures: string[]) => ({ 'webhook-id': id, 'webhook-timestamp': timestamp, 'webhook-signature': signatures.join(' ') })
    expect((await send(zap.id, body, headersWith('msg_fifth', [...forged(4), signatureOf('msg_fifth')]))).status).toBe(202)
    const sixth = await send(zap.id, body, headersWith('msg_sixth', [...forged(5), signatureOf('msg_sixth')]))
    expect(sixth.status).toBe(401)
    expect(sixth.body.error.message).toContain('No signature')
    const oversized = await send(zap.id, body, headersWith('msg_long', [signatureOf('msg_long'), ...forged(11)]))
    expect(oversized.status).toBe(401)
    expect(oversized.body.error.message).toBe('webhook-signature is longer than 1024 characters')
    expect(await runCount(zap.id)).toBe(1)
    expect((await rejectionsOf(token, zap.id)).map((rejection) => rejection.reason)).toEqual([oversized.body.error.message, sixth.body.error.message])
  })
})

describe('handshakes', () => {
  test('Slack’s url_verification is answered with its challenge when signed, and starts no run', async () => {
    const secret = hex()
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'slack', secrets: [secret] } })
    const body = JSON.stringify({ token: 'Jhj5dZrVaK7ZwHHjRyZWjbDl', challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P', type: 'url_verification' })
    const timestamp = now()
    const answered = await send(zap.id, body, { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(secret, timestamp, body) })
    expect(answered.status).toBe(200)
    expect(answered.body).toEqual({ challenge: '3eZbrw1aBm2rZgRNFdxV2595E9CY3gmdALWMmHkvFXO7tYXAYM8P' })
    const unsigned = await send(zap.id, body, { 'x-slack-request-timestamp': String(timestamp), 'x-slack-signature': slackSignature(hex(), timestamp, body) })
    expect(unsigned.status).toBe(401)
    expect(await runCount(zap.id)).toBe(0)
  })

  test('a Meta-style GET subscription check echoes hub.challenge for the zap’s verifyToken only', async () => {
    const { token, user } = await signUp()
    const verifyToken = 'meta-verify-token-42'
    const zap = await createZap(token, { verify: { scheme: 'hmac', secrets: [hex()], header: 'x-hub-signature-256', prefix: 'sha256=', verifyToken } })
    const check = (query: string) => hooks.handle(new Request(`http://localhost/hooks/${zap.id}?${query}`))
    const answered = await check(`hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=${verifyToken}`)
    expect(answered.status).toBe(200)
    expect(await answered.text()).toBe('1158201444')
    const byOwner = await hooks.handle(new Request(`http://localhost/hooks/catch/${user.id}/${zap.id}?hub.mode=subscribe&hub.challenge=7&hub.verify_token=${verifyToken}`))
    expect(await byOwner.text()).toBe('7')
    const otherOwner = await hooks.handle(new Request(`http://localhost/hooks/catch/${crypto.randomUUID()}/${zap.id}?hub.mode=subscribe&hub.challenge=7&hub.verify_token=${verifyToken}`))
    expect(otherOwner.status).toBe(404)
    const wrong = await check('hub.mode=subscribe&hub.challenge=1158201444&hub.verify_token=guessed-token')
    expect(wrong.status).toBe(403)
    expect(((await wrong.json()) as { error: { code: string } }).error.code).toBe('invalid_verify_token')
    expect((await check('hub.mode=unsubscribe')).status).toBe(400)
    expect((await hooks.handle(new Request(`http://localhost/hooks/${crypto.randomUUID()}?hub.mode=subscribe`))).status).toBe(404)
    expect(await runCount(zap.id)).toBe(0)
    expect((await rejectionsOf(token, zap.id))[0]!.reason).toContain('hub.verify_token')
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })).body.zap.verify).toMatchObject({ scheme: 'hmac', hasVerifyToken: true })
  })
})

describe('form bodies', () => {
  test('a signed form with a single JSON payload field is stored as that JSON; the raw form is what was verified', async () => {
    const secret = hex()
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'github', secrets: [secret] } })
    const body = `payload=${encodeURIComponent(JSON.stringify({ action: 'opened', number: 7 }))}`
    const accepted = await send(zap.id, body, { 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await signGithub(secret, body) }, 'application/x-www-form-urlencoded')
    expect(accepted.status).toBe(202)
    const run = await call(api, 'GET', `/api/v1/runs/${accepted.body.runId}`, { token })
    expect(run.body.run.trigger.body).toEqual({ action: 'opened', number: 7 })
  })

  test('other forms stay objects of their fields', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const accepted = await send(zap.id, 'payload=not-json', {}, 'application/x-www-form-urlencoded')
    const run = await call(api, 'GET', `/api/v1/runs/${accepted.body.runId}`, { token })
    expect(run.body.run.trigger.body).toEqual({ payload: 'not-json' })
  })
})

describe('the verification setting', () => {
  const create = async (input: Record<string, unknown>) => {
    const { token } = await signUp()
    return call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'v', steps: [{ type: 'log', config: { message: 'hi' } }], ...input } })
  }

  const invalid: [string, Record<string, unknown>, string][] = [
    ['an invalid Standard Webhooks secret', { secret: 'whsec_!!!!!!!!!!!!!!!!' }, 'secret'],
    ['an invalid Standard Webhooks secret in verify', { verify: { scheme: 'standard-webhooks', secrets: ['whsec_!!!!!!!!!!!!!!!!'] } }, 'verify.secrets.0'],
    ['an unknown scheme', { verify: { scheme: 'pgp', secrets: [hex()] } }, 'verify.scheme'],
    ['no secrets', { verify: { scheme: 'github', secrets: [] } }, 'verify.secrets'],
    ['six secrets', { verify: { scheme: 'github', secrets: Array.from({ length: 6 }, hex) } }, 'verify.secrets'],
    ['a short secret', { verify: { scheme: 'stripe', secrets: ['whsec_short'] } }, 'verify.secrets.0'],
    ['an unknown option', { verify: { scheme: 'github', secrets: [hex()], header: 'x-other' } }, 'verify.header'],
    ['{timestamp} without timestampHeader', { verify: { scheme: 'hmac', secrets: [hex()], header: 'x-sig', signedContent: '{timestamp}.{body}' } }, 'verify'],
    ['a bad public key', { verify: { scheme: 'standard-webhooks', publicKeys: ['whpk_AAAA'] } }, 'verify.publicKeys.0'],
    ['secret and verify together', { secret: whsec(), verify: { scheme: 'github', secrets: [hex()] } }, 'secret'],
    ['the ed25519 identity point as a public key', { verify: { scheme: 'standard-webhooks', publicKeys: [whpk(identityPoint)] } }, 'verify.publicKeys.0'],
    ['a public key of order 8', { verify: { scheme: 'standard-webhooks', publicKeys: [whpk(orderEightPoint)] } }, 'verify.publicKeys.0'],
    ['32 bytes that are no point of the curve', { verify: { scheme: 'standard-webhooks', publicKeys: [whpk(notAPoint)] } }, 'verify.publicKeys.0'],
    ['a secret of 16 spaces', { verify: { scheme: 'github', secrets: [' '.repeat(16)] } }, 'verify.secrets.0'],
    ['a secret padded with spaces', { verify: { scheme: 'slack', secrets: [` ${hex()}`] } }, 'verify.secrets.0'],
    ['a bearer token of one repeated character', { verify: { scheme: 'bearer', secrets: ['a'.repeat(40)] } }, 'verify.secrets.0'],
    ['a basic password of spaces', { verify: { scheme: 'basic', secrets: [`sender:${' '.repeat(16)}`] } }, 'verify.secrets.0'],
    ['a 9-byte Standard Webhooks secret', { verify: { scheme: 'standard-webhooks', secrets: [`whsec_${randomBytes(9).toString('base64')}`] } }, 'verify.secrets.0'],
    ['a 9-byte secret shorthand', { secret: `whsec_${randomBytes(9).toString('base64')}` }, 'secret'],
    ['a Standard Webhooks secret of zero bytes', { secret: `whsec_${Buffer.alloc(24).toString('base64')}` }, 'secret'],
  ]
  for (const [what, input, path] of invalid) {
    test(`${what} is 400 naming ${path}`, async () => {
      const response = await create(input)
      expect(response.status).toBe(400)
      expect(response.body.error.details[0].path).toBe(path)
    })
  }

  test('a weak setting given to PATCH is 400 naming the field and changes nothing; a small-order key already saved verifies nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'github', secrets: [hex()] } })
    const edits: [Record<string, unknown>, string][] = [
      [{ verify: { scheme: 'standard-webhooks', publicKeys: [whpk(identityPoint)] } }, 'verify.publicKeys.0'],
      [{ verify: { scheme: 'hmac', secrets: [' '.repeat(16)], header: 'x-signature' } }, 'verify.secrets.0'],
      [{ secret: `whsec_${randomBytes(9).toString('base64')}` }, 'secret'],
    ]
    for (const [body, path] of edits) {
      const response = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body })
      expect(response.status).toBe(400)
      expect(response.body.error.details[0].path).toBe(path)
    }
    const shown = await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })
    expect(shown.body.zap).toMatchObject({ version: zap.version, verify: { scheme: 'github', secretCount: 1 } })
    // Under the identity point, R = identity and S = 0 verify for any message: a setting saved before this check verifies nothing.
    const forged = `v1a,${Buffer.concat([identityPoint, Buffer.alloc(32)]).toString('base64')}`
    expect(verifyStandardWebhooks(
      { scheme: 'standard-webhooks', publicKeys: [whpk(identityPoint)], toleranceSeconds: 300 },
      { headers: new Headers({ 'webhook-id': 'msg_forged', 'webhook-timestamp': String(now()), 'webhook-signature': forged }), body: new TextEncoder().encode('{"any":"body"}'), now: Date.now() },
    )).toMatchObject({ ok: false })
  })

  test('GET shows the scheme and options, never a secret; verify null turns it off', async () => {
    const secret = hex()
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'hmac', secrets: [secret, hex()], header: 'X-Sig', verifyToken: 'token-kept-secret' } })
    const shown = await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })
    expect(shown.body.zap.hasSecret).toBe(true)
    expect(shown.body.zap.verify).toEqual({
      scheme: 'hmac', header: 'X-Sig', algorithm: 'sha256', encoding: 'hex', signedContent: '{body}', toleranceSeconds: 300, secretCount: 2, hasVerifyToken: true,
    })
    expect(JSON.stringify((await call(api, 'GET', '/api/v1/zaps', { token })).body)).not.toContain(secret)
    const cleared = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { verify: null } })
    expect(cleared.body.zap).toMatchObject({ hasSecret: false, verify: null })
    expect((await send(zap.id, '{}', {})).status).toBe(202)
  })

  test('the catalog lists every scheme with the JSON Schema of its setting', async () => {
    const { verifySchemes } = (await call(api, 'GET', '/api/v1/catalog')).body
    expect(verifySchemes.map((entry: { scheme: string }) => entry.scheme)).toEqual(['none', 'standard-webhooks', 'github', 'stripe', 'shopify', 'slack', 'hmac', 'basic', 'bearer'])
    const hmac = verifySchemes.find((entry: { scheme: string }) => entry.scheme === 'hmac')
    expect(hmac.setting).toMatchObject({ type: 'object', required: expect.arrayContaining(['scheme', 'secrets', 'header']), additionalProperties: false })
  })

  test('the secret shorthand is a standard-webhooks setting', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { secret: whsec() })
    const shown = await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })
    expect(shown.body.zap.verify).toEqual({ scheme: 'standard-webhooks', toleranceSeconds: 300, secretCount: 1, hasVerifyToken: false })
  })
})

describe('rejections', () => {
  test('are listed for the zap’s owner only, newest first, and only the newest 100 are kept', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'bearer', secrets: ['tok_0123456789abcdef'] } })
    for (let attempt = 0; attempt < 105; attempt++) await send(zap.id, `{"attempt":${attempt}}`, { authorization: 'Bearer wrong' })
    const rejections = await rejectionsOf(token, zap.id)
    expect(rejections).toHaveLength(100)
    expect(rejections[0]!.bodyPreview).toBe('{"attempt":104}')
    expect(Number((await sql`select count(*) from webhook_rejections where zap_id = ${zap.id}`)[0]!.count)).toBe(100)
    const stranger = await signUp('Eve')
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}/rejections`, { token: stranger.token })).status).toBe(404)
  })

  test('anonymous subscription checks never push signature failures out: each kind keeps its own newest 100', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'bearer', secrets: ['tok_0123456789abcdef'], verifyToken: 'meta-verify-token-42' } })
    for (let attempt = 0; attempt < 3; attempt++) await send(zap.id, `{"attempt":${attempt}}`, { authorization: 'Bearer wrong' })
    for (let check = 0; check < 120; check++) {
      const refused = await hooks.handle(new Request(`http://localhost/hooks/${zap.id}?hub.mode=subscribe&hub.challenge=${check}&hub.verify_token=guess-${check}`))
      expect(refused.status).toBe(403)
    }
    const all = await rejectionsOf(token, zap.id)
    expect(all).toHaveLength(103)
    expect(all.slice(0, 100).every((rejection) => rejection.kind === 'handshake' && rejection.method === 'GET')).toBeTrue()
    const signatures = (await call(api, 'GET', `/api/v1/zaps/${zap.id}/rejections?kind=signature`, { token })).body.rejections
    expect(signatures.map((rejection: { kind: string; bodyPreview: string }) => [rejection.kind, rejection.bodyPreview])).toEqual(
      [2, 1, 0].map((attempt) => ['signature', `{"attempt":${attempt}}`]),
    )
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}/rejections?kind=handshake&limit=5`, { token })).body.rejections).toHaveLength(5)
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}/rejections?kind=other`, { token })).status).toBe(400)
  })

  test('keep a preview of at most 1,000 characters of the body', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { verify: { scheme: 'bearer', secrets: ['tok_0123456789abcdef'] } })
    const body = JSON.stringify({ text: 'x'.repeat(5000) })
    await send(zap.id, body, {})
    const [rejection] = await rejectionsOf(token, zap.id)
    expect(rejection!.bodyPreview).toBe(body.slice(0, 1000))
    expect(rejection!.bodyBytes).toBe(body.length)
  })
})
