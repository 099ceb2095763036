import { createHash, timingSafeEqual } from 'node:crypto'
import { parseJson } from '@zap/lib/body'
import type { VerifyOf, VerifyScheme } from '@zap/lib/verify'
import { verifyStandardWebhooks } from './schemes/standard-webhooks.ts'
import { verifyGithub } from './schemes/github.ts'
import { verifyStripe } from './schemes/stripe.ts'
import { verifyShopify } from './schemes/shopify.ts'
import { verifySlack } from './schemes/slack.ts'
import { verifyHmac } from './schemes/hmac.ts'
import { verifyBasic } from './schemes/basic.ts'
import { verifyBearer } from './schemes/bearer.ts'

/** What a scheme looks at: the headers and the raw body bytes as received. */
export type ReceivedRequest = { headers: Headers; body: Uint8Array; now: number }

/**
 * A verified request may name the sender's delivery id (a repeat of it is one run); a refused one says why,
 * for the zap's rejections.
 */
export type Verification = { ok: true; deliveryId?: string } | { ok: false; reason: string }

const schemes: { [Scheme in VerifyScheme]: (setting: VerifyOf<Scheme>, request: ReceivedRequest) => Verification } = {
  none: () => ({ ok: true }),
  'standard-webhooks': verifyStandardWebhooks,
  github: verifyGithub,
  stripe: verifyStripe,
  shopify: verifyShopify,
  slack: verifySlack,
  hmac: verifyHmac,
  basic: verifyBasic,
  bearer: verifyBearer,
}

/** Checks a request against a zap's setting, by its scheme. */
export const verifyRequest = <Scheme extends VerifyScheme>(setting: VerifyOf<Scheme>, request: ReceivedRequest) => schemes[setting.scheme](setting, request)

/** Constant-time equality of two byte strings; different lengths are simply unequal (lengths are public). */
export const sameBytes = (given: Uint8Array, expected: Uint8Array) => given.byteLength === expected.byteLength && timingSafeEqual(given, expected)

/** Constant-time equality of two texts of any length: their digests are compared, so not even the length leaks. */
export const sameText = (given: string, expected: string) => timingSafeEqual(sha256(given), sha256(expected))

const sha256 = (text: string) => createHash('sha256').update(text).digest()

/** A delivery id for a sender that names none: the digest of what was signed, so a replay of the same signed message is one run. */
export const digestOf = (...parts: (string | Uint8Array)[]) => {
  const hash = createHash('sha256')
  for (const part of parts) hash.update(part)
  return `sha256:${hash.digest('hex')}`
}

/** Whether Unix seconds `timestamp` is a whole number within `toleranceSeconds` of `now` (ms). */
export const isFresh = (timestamp: string, toleranceSeconds: number, now: number) =>
  /^\d{1,12}$/.test(timestamp) && Math.abs(now / 1000 - Number(timestamp)) <= toleranceSeconds

export const refuse = (reason: string): Verification => ({ ok: false, reason })

/**
 * The string field `name` of the signed body read as JSON, as Stripe and Slack send it, when it is an object
 * that has one. The request's Content-Type is not signed: a replay relabelled as text must name the same delivery.
 */
export function signedJsonField(body: Uint8Array, name: string) {
  let decoded: unknown
  try {
    decoded = parseJson(new TextDecoder().decode(body), maxSignedJsonDepth)
  } catch {
    return undefined
  }
  const value = decoded !== null && typeof decoded === 'object' ? (decoded as Record<string, unknown>)[name] : undefined
  return typeof value === 'string' && value.length > 0 ? value : undefined
}

// Stripe's and Slack's events nest a few levels; a deeper body is named by its digest instead.
const maxSignedJsonDepth = 64
