import { createHmac, timingSafeEqual } from 'node:crypto'

const toleranceSeconds = 5 * 60

export type SignatureHeaders = { id?: string | null; timestamp?: string | null; signature?: string | null }

/** Standard Webhooks: `v1,<base64 HMAC-SHA256 of id.timestamp.body>`, several allowed, compared in constant time. */
export function verifySignature(secret: string, headers: SignatureHeaders, body: Uint8Array, now = Date.now()) {
  const { id, timestamp, signature } = headers
  if (!id || !timestamp || !signature) return 'Missing webhook-id, webhook-timestamp or webhook-signature header'
  const sentAt = Number(timestamp)
  if (!Number.isInteger(sentAt) || Math.abs(now / 1000 - sentAt) > toleranceSeconds) return 'webhook-timestamp is missing, malformed or more than 5 minutes away'
  const expected = createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.`).update(body).digest()
  const matches = signature
    .split(' ')
    .filter((candidate) => candidate.startsWith('v1,'))
    .some((candidate) => {
      const given = Buffer.from(candidate.slice(3), 'base64')
      return given.length === expected.length && timingSafeEqual(given, expected)
    })
  return matches ? null : 'No valid signature in webhook-signature'
}

export function signingKey(secret: string) {
  return secret.startsWith('whsec_') ? Buffer.from(secret.slice(6), 'base64') : Buffer.from(secret)
}

export function sign(secret: string, id: string, timestamp: number, body: string | Uint8Array) {
  return 'v1,' + createHmac('sha256', signingKey(secret)).update(`${id}.${timestamp}.`).update(body).digest('base64')
}
