import { createHmac } from 'node:crypto'
import type { VerifyOf } from '@zap/lib/verify'
import { digestOf, isFresh, refuse, sameBytes, signedJsonField, type ReceivedRequest, type Verification } from '../verification.ts'

/**
 * Slack: `X-Slack-Signature: v0=<hex HMAC-SHA256 of "v0:<X-Slack-Request-Timestamp>:<body>">`, keyed with
 * the signing secret. An Events API retry (`X-Slack-Retry-Num`) carries the same `event_id`, which names the delivery.
 */
export function verifySlack(setting: VerifyOf<'slack'>, { headers, body, now }: ReceivedRequest): Verification {
  const signature = headers.get('x-slack-signature')
  const timestamp = headers.get('x-slack-request-timestamp')
  if (!signature || !timestamp) return refuse('Missing X-Slack-Signature or X-Slack-Request-Timestamp header')
  if (!signature.startsWith('v0=')) return refuse('X-Slack-Signature does not start with v0=')
  if (!isFresh(timestamp, setting.toleranceSeconds, now)) return refuse(`X-Slack-Request-Timestamp is malformed or more than ${setting.toleranceSeconds} s away`)
  const signed = Buffer.concat([Buffer.from(`v0:${timestamp}:`), body])
  const given = Buffer.from(signature.slice(3), 'hex')
  const matches = setting.secrets.some((secret) => sameBytes(given, createHmac('sha256', secret).update(signed).digest()))
  if (!matches) return refuse('X-Slack-Signature does not match the zap’s signing secrets')
  return { ok: true, deliveryId: signedJsonField(body, 'event_id') ?? digestOf(signed) }
}
