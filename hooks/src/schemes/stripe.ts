import { createHmac } from 'node:crypto'
import type { VerifyOf } from '@zap/lib/verify'
import { digestOf, isFresh, refuse, sameBytes, signedJsonField, type ReceivedRequest, type Verification } from '../verification.ts'

/**
 * Stripe: `Stripe-Signature: t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">` (several v1 allowed),
 * keyed with the whole `whsec_` secret as text; the event's `id` names the delivery.
 */
export function verifyStripe(setting: VerifyOf<'stripe'>, { headers, body, now }: ReceivedRequest): Verification {
  const header = headers.get('stripe-signature')
  if (!header) return refuse('Missing Stripe-Signature header')
  const pairs = header.split(',').map((pair) => pair.split('=', 2) as [string, string?])
  const timestamp = pairs.find(([key]) => key === 't')?.[1]
  const signatures = pairs.filter(([key, value]) => key === 'v1' && value).map(([, value]) => Buffer.from(value!, 'hex'))
  if (!timestamp || signatures.length === 0) return refuse('Stripe-Signature has no t= timestamp or no v1= signature')
  if (!isFresh(timestamp, setting.toleranceSeconds, now)) return refuse(`Stripe-Signature timestamp is malformed or more than ${setting.toleranceSeconds} s away`)
  const signed = Buffer.concat([Buffer.from(`${timestamp}.`), body])
  const macs = setting.secrets.map((secret) => createHmac('sha256', secret).update(signed).digest())
  const matches = signatures.some((given) => macs.some((mac) => sameBytes(given, mac)))
  if (!matches) return refuse('No v1 signature in Stripe-Signature matches the zap’s secrets')
  return { ok: true, deliveryId: signedJsonField(body, 'id') ?? digestOf(signed) }
}
