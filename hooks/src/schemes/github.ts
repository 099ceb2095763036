import { createHmac } from 'node:crypto'
import type { VerifyOf } from '@zap/lib/verify'
import { digestOf, refuse, sameBytes, type ReceivedRequest, type Verification } from '../verification.ts'

/**
 * GitHub: `X-Hub-Signature-256: sha256=<hex HMAC-SHA256 of the body>`; `X-GitHub-Delivery` names the
 * delivery (a redelivery keeps it). GitHub signs no timestamp, so there is none to check.
 */
export function verifyGithub(setting: VerifyOf<'github'>, { headers, body }: ReceivedRequest): Verification {
  const signature = headers.get('x-hub-signature-256')
  if (!signature) return refuse('Missing X-Hub-Signature-256 header')
  if (!signature.startsWith('sha256=')) return refuse('X-Hub-Signature-256 does not start with sha256=')
  const given = Buffer.from(signature.slice(7), 'hex')
  const matches = setting.secrets.some((secret) => sameBytes(given, createHmac('sha256', secret).update(body).digest()))
  if (!matches) return refuse('X-Hub-Signature-256 does not match the zap’s secrets')
  return { ok: true, deliveryId: headers.get('x-github-delivery') || digestOf(body) }
}
