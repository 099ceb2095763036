import { createHmac } from 'node:crypto'
import type { VerifyOf } from '@zap/lib/verify'
import { digestOf, isFresh, refuse, sameBytes, type ReceivedRequest, type Verification } from '../verification.ts'

/**
 * Any HMAC sender: the signature in `header` (after `prefix`, hex or base64) of `signedContent`, the raw
 * body with `{timestamp}` and `{id}` taken from their headers.
 */
export function verifyHmac(setting: VerifyOf<'hmac'>, { headers, body, now }: ReceivedRequest): Verification {
  const signature = headers.get(setting.header)
  if (!signature) return refuse(`Missing ${setting.header} header`)
  const prefix = setting.prefix ?? ''
  if (!signature.startsWith(prefix)) return refuse(`${setting.header} does not start with ${prefix}`)
  const timestamp = setting.timestampHeader ? headers.get(setting.timestampHeader) : null
  const id = setting.idHeader ? headers.get(setting.idHeader) : null
  if (setting.timestampHeader) {
    if (!timestamp) return refuse(`Missing ${setting.timestampHeader} header`)
    if (!isFresh(timestamp, setting.toleranceSeconds, now)) return refuse(`${setting.timestampHeader} is malformed or more than ${setting.toleranceSeconds} s away`)
  }
  if (setting.idHeader && !id && setting.signedContent.includes('{id}')) return refuse(`Missing ${setting.idHeader} header`)
  const signed = Buffer.concat(
    setting.signedContent.split(/\{(body|timestamp|id)\}/).map((part, index) => {
      if (index % 2 === 0) return Buffer.from(part)
      return part === 'body' ? body : Buffer.from((part === 'timestamp' ? timestamp : id) ?? '')
    }),
  )
  const given = Buffer.from(signature.slice(prefix.length), setting.encoding)
  const matches = setting.secrets.some((secret) => sameBytes(given, createHmac(setting.algorithm, secret).update(signed).digest()))
  if (!matches) return refuse(`${setting.header} does not match the zap’s secrets`)
  return { ok: true, deliveryId: deliveryIdOf(setting.signedContent, id, signed) }
}

/**
 * A delivery is named by what its signature covers, so a captured one replayed with a new id is the same
 * run: a signed id; else the signed content, which a signed timestamp makes one delivery's (a replay
 * past `toleranceSeconds` is refused as stale). Signing neither, the id header names it as GitHub's
 * does, unsigned, so a replay with a new id is a new run; without one, the same body is the same delivery.
 */
function deliveryIdOf(signedContent: string, id: string | null, signed: Buffer) {
  if (signedContent.includes('{id}')) return id!
  if (signedContent.includes('{timestamp}')) return digestOf(signed)
  return id || digestOf(signed)
}
