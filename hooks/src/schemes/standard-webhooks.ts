import { createHmac, createPublicKey, verify as verifyEd25519 } from 'node:crypto'
import { isSoundPublicKey, maxSecrets, standardWebhooksKey, standardWebhooksPublicKey, type VerifyOf } from '@zap/lib/verify'
import { isFresh, refuse, sameBytes, type ReceivedRequest, type Verification } from '../verification.ts'

/**
 * Standard Webhooks (https://www.standardwebhooks.com), also as Svix sends it (`svix-*` headers):
 * `v1,<base64 HMAC-SHA256>` with a secret, or `v1a,<base64 ed25519>` with a public key, of
 * `<id>.<timestamp>.<body>`; several space-separated signatures, any one of the first five matching.
 */
export function verifyStandardWebhooks(setting: VerifyOf<'standard-webhooks'>, { headers, body, now }: ReceivedRequest): Verification {
  const id = headers.get('webhook-id') ?? headers.get('svix-id')
  const timestamp = headers.get('webhook-timestamp') ?? headers.get('svix-timestamp')
  const signature = headers.get('webhook-signature') ?? headers.get('svix-signature')
  if (!id || !timestamp || !signature) return refuse('Missing webhook-id, webhook-timestamp or webhook-signature header (or their svix-* names)')
  if (!isFresh(timestamp, setting.toleranceSeconds, now)) return refuse(`webhook-timestamp is malformed or more than ${setting.toleranceSeconds} s away`)
  if (signature.length > maxSignatureHeaderLength) return refuse(`webhook-signature is longer than ${maxSignatureHeaderLength} characters`)
  const signed = Buffer.concat([Buffer.from(`${id}.${timestamp}.`), body])
  const macs = (setting.secrets ?? []).map((secret) => createHmac('sha256', standardWebhooksKey(secret)).update(signed).digest())
  // A setting saved before small-order keys were refused may still hold one: it verifies nothing.
  const publicKeys = (setting.publicKeys ?? []).filter(isSoundPublicKey).map(ed25519Key)
  // Each v1a candidate costs a pass over the body per public key: only the first few are examined.
  const candidates = new Set(signature.split(' ', maxSignatures))
  const matches = [...candidates].some((candidate) => {
    const [version, encoded] = candidate.split(',', 2)
    if (!encoded) return false
    const given = Buffer.from(encoded, 'base64')
    if (version === 'v1') return macs.some((mac) => sameBytes(given, mac))
    if (version === 'v1a') return given.byteLength === 64 && publicKeys.some((key) => verifyEd25519(null, signed, key, given))
    return false
  })
  return matches ? { ok: true, deliveryId: id } : refuse('No signature in webhook-signature matches the zap’s secrets or public keys')
}

// A sender signs once per key it holds, and a zap holds at most as many keys: these signatures cover any rotation.
const maxSignatures = maxSecrets
const maxSignatureHeaderLength = 1024

const ed25519Key = (key: string) =>
  createPublicKey({ key: { kty: 'OKP', crv: 'Ed25519', x: standardWebhooksPublicKey(key).toString('base64url') }, format: 'jwk' })
