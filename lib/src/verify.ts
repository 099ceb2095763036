import * as v from 'valibot'
import { ed25519 } from '@noble/curves/ed25519.js'

// How a zap checks that a webhook comes from its sender: one setting per scheme, validated when the zap is
// created or changed, so hooks never meets a secret it cannot use. The secrets never leave the server.

export const maxSecrets = 5
export const defaultToleranceSeconds = 300

const base64 = /^(?:[A-Za-z0-9+/]{4})*(?:[A-Za-z0-9+/]{2}==|[A-Za-z0-9+/]{3}=)?$/
const headerName = /^[!#$%&'*+.^_`|~0-9a-z-]+$/i

/** The key bytes of a Standard Webhooks secret: base64, after an optional `whsec_` (as the specification says). */
export const standardWebhooksKey = (secret: string) => Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64')
/** The ed25519 public key bytes of a `whpk_` key. */
export const standardWebhooksPublicKey = (key: string) => Buffer.from(key.startsWith('whpk_') ? key.slice(5) : key, 'base64')

/** Whether a `whpk_` key is a point of the curve of large order: under a small-order one (the identity) any signature verifies. */
export const isSoundPublicKey = (key: string) => {
  const point = ed25519PointOf(key)
  return point !== null && !point.isSmallOrder()
}

/** The curve point of a `whpk_` key, or null when its bytes encode none. */
function ed25519PointOf(key: string) {
  try {
    return ed25519.Point.fromBytes(standardWebhooksPublicKey(key))
  } catch {
    return null
  }
}

const isBase64Key = (secret: string, prefix: string) => {
  const encoded = secret.startsWith(prefix) ? secret.slice(prefix.length) : secret
  return encoded.length > 0 && base64.test(encoded)
}

// A secret anyone could guess is refused: one that is mostly the same few characters, or padded with spaces.
const minDistinct = 5
const isVaried = (values: Iterable<unknown>) => new Set(values).size >= minDistinct
const isTrimmed = (text: string) => text.trim() === text
const minKeyBytes = 16

const secretText = v.pipe(
  v.string(),
  v.minLength(16, 'A secret must be at least 16 characters'),
  v.maxLength(256, 'A secret is at most 256 characters'),
  v.check(isTrimmed, 'A secret must not start or end with whitespace'),
  v.check((secret) => isVaried(secret), `A secret must have at least ${minDistinct} different characters`),
)
/** A Standard Webhooks secret, alone (the `secret` shorthand) or in a list. */
export const standardWebhooksSecret = v.pipe(
  v.string(),
  v.minLength(16, 'A signing secret must be at least 16 characters'),
  v.maxLength(256, 'A signing secret is at most 256 characters'),
  v.check((secret) => isBase64Key(secret, 'whsec_'), 'A Standard Webhooks secret is base64, optionally after whsec_, e.g. whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSw'),
  v.check(
    (secret) => standardWebhooksKey(secret).byteLength >= minKeyBytes,
    `A Standard Webhooks secret must decode to at least ${minKeyBytes} bytes, e.g. "whsec_$(openssl rand -base64 24)"`,
  ),
  v.check((secret) => isVaried(standardWebhooksKey(secret)), `A Standard Webhooks secret must decode to at least ${minDistinct} different bytes`),
)
const publicKey = v.pipe(
  v.string(),
  v.check((key) => isBase64Key(key, 'whpk_') && standardWebhooksPublicKey(key).byteLength === 32, 'An ed25519 public key is whpk_ followed by 32 bytes in base64'),
  v.check((key) => ed25519PointOf(key) !== null, 'This is not an ed25519 public key: its 32 bytes are not a point of the curve'),
  v.check((key) => !ed25519PointOf(key)?.isSmallOrder(), 'This ed25519 public key has a small order (such as the identity point): any signature would verify under it'),
)
const basicCredentials = v.pipe(
  v.string(),
  v.maxLength(256, 'Credentials are at most 256 characters'),
  v.regex(/^[^:]+:.{12,}$/, 'Basic credentials are "username:password", with a password of at least 12 characters'),
  v.check((credentials) => isTrimmed(credentials.slice(credentials.indexOf(':') + 1)), 'The password must not start or end with whitespace'),
  v.check((credentials) => isVaried(credentials.slice(credentials.indexOf(':') + 1)), `The password must have at least ${minDistinct} different characters`),
)

const secretsOf = <Item extends v.GenericSchema<string, string>>(item: Item, what: string) =>
  v.pipe(
    v.array(item),
    v.minLength(1, `Give at least one ${what}`),
    v.maxLength(maxSecrets, `At most ${maxSecrets} ${what}s (two are enough to rotate)`),
    v.description(`Any of them is accepted, so a ${what} can be rotated by adding the new one, then removing the old`),
  )
const secrets = secretsOf(secretText, 'secret')

const toleranceSeconds = v.optional(
  v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400), v.description('How far the signed timestamp may be from now')),
  defaultToleranceSeconds,
)
const verifyToken = v.optional(
  v.pipe(
    v.string(),
    v.minLength(8, 'A verify token must be at least 8 characters'),
    v.maxLength(256),
    v.description('Answers Meta-style GET subscription checks (`hub.verify_token`) with `hub.challenge`'),
  ),
)
const header = v.pipe(v.string(), v.maxLength(100), v.regex(headerName, 'Expected a header name such as x-signature'))

const hmac = v.pipe(
  v.strictObject({
    scheme: v.literal('hmac'),
    secrets,
    header: v.pipe(header, v.description('The header carrying the signature')),
    algorithm: v.optional(v.picklist(['sha1', 'sha256', 'sha512']), 'sha256'),
    encoding: v.optional(v.picklist(['hex', 'base64']), 'hex'),
    prefix: v.optional(v.pipe(v.string(), v.maxLength(32), v.description('Text before the signature in the header, e.g. sha256='))),
    signedContent: v.optional(
      v.pipe(
        v.string(),
        v.maxLength(200),
        v.check((template) => template.includes('{body}'), 'signedContent must contain {body}'),
        v.description('What is signed: the raw body with {timestamp} and {id} from their headers, e.g. "{timestamp}.{body}"'),
      ),
      '{body}',
    ),
    timestampHeader: v.optional(v.pipe(header, v.description('Unix seconds of signing; refused when further from now than toleranceSeconds'))),
    idHeader: v.optional(v.pipe(header, v.description('The sender’s delivery id: a repeat of it is one run'))),
    toleranceSeconds,
    verifyToken,
  }),
  v.check((setting) => !setting.signedContent.includes('{timestamp}') || setting.timestampHeader !== undefined, 'signedContent uses {timestamp}: set timestampHeader'),
  v.check((setting) => !setting.signedContent.includes('{id}') || setting.idHeader !== undefined, 'signedContent uses {id}: set idHeader'),
)

const standardWebhooks = v.pipe(
  v.strictObject({
    scheme: v.literal('standard-webhooks'),
    secrets: v.optional(secretsOf(standardWebhooksSecret, 'secret')),
    publicKeys: v.optional(secretsOf(publicKey, 'public key')),
    toleranceSeconds,
    verifyToken,
  }),
  v.check((setting) => Boolean(setting.secrets || setting.publicKeys), 'standard-webhooks needs secrets (v1) or publicKeys (v1a)'),
)

const schemeNone = v.strictObject({ scheme: v.literal('none'), verifyToken })
const github = v.strictObject({ scheme: v.literal('github'), secrets, verifyToken })
const stripe = v.strictObject({ scheme: v.literal('stripe'), secrets, toleranceSeconds, verifyToken })
const shopify = v.strictObject({ scheme: v.literal('shopify'), secrets, verifyToken })
const slack = v.strictObject({ scheme: v.literal('slack'), secrets, toleranceSeconds, verifyToken })
const basic = v.strictObject({ scheme: v.literal('basic'), secrets: secretsOf(basicCredentials, 'username:password'), verifyToken })
const bearer = v.strictObject({ scheme: v.literal('bearer'), secrets: secretsOf(secretText, 'token'), verifyToken })

/** The verification setting of a zap's trigger, as `POST`/`PATCH /api/v1/zaps` take it in `verify`. */
export const verify = v.pipe(
  v.variant('scheme', [schemeNone, standardWebhooks, github, stripe, shopify, slack, hmac, basic, bearer]),
  v.description(
    'How webhooks are verified: none, standard-webhooks (also svix-* headers), github, stripe, shopify, slack, hmac (any header), basic or bearer; ' +
      'null accepts any request',
  ),
)

/** Each scheme with what it checks and its setting's schema, for the catalog. */
export const verifySchemes = [
  { scheme: 'none', description: 'Nothing is checked; a verifyToken only answers GET subscription checks', setting: schemeNone },
  {
    scheme: 'standard-webhooks',
    description: 'Standard Webhooks and Svix: webhook-* or svix-* headers, v1 HMAC-SHA256 with base64 secrets or v1a ed25519 with public keys; dedupes on webhook-id',
    setting: standardWebhooks,
  },
  { scheme: 'github', description: 'GitHub: X-Hub-Signature-256 (sha256=<hex HMAC of the body>); dedupes on X-GitHub-Delivery', setting: github },
  { scheme: 'stripe', description: 'Stripe: Stripe-Signature (t=…,v1=<hex HMAC of "<t>.<body>">); dedupes on the event id', setting: stripe },
  { scheme: 'shopify', description: 'Shopify: X-Shopify-Hmac-Sha256 (base64 HMAC of the body); dedupes on X-Shopify-Webhook-Id', setting: shopify },
  { scheme: 'slack', description: 'Slack: X-Slack-Signature (v0=<hex HMAC of "v0:<timestamp>:<body>">); answers url_verification; dedupes on event_id', setting: slack },
  { scheme: 'hmac', description: 'Any HMAC sender: the header, algorithm, encoding, prefix and signed content you describe', setting: hmac },
  { scheme: 'basic', description: 'HTTP Basic credentials ("username:password")', setting: basic },
  { scheme: 'bearer', description: 'A bearer token in Authorization', setting: bearer },
] as const

export type Verify = v.InferOutput<typeof verify>
export type VerifyScheme = Verify['scheme']
export type VerifyOf<Scheme extends VerifyScheme> = Extract<Verify, { scheme: Scheme }>

/** What `GET` shows of a setting: its scheme and options, never a secret or the verify token. */
export const verifyView = v.pipe(
  v.object({
    scheme: v.picklist(verifySchemes.map((entry) => entry.scheme)),
    secretCount: v.pipe(v.number(), v.integer(), v.minValue(0), v.description('How many secrets are configured (never shown)')),
    hasVerifyToken: v.boolean(),
    publicKeys: v.optional(v.array(v.string())),
    toleranceSeconds: v.optional(v.number()),
    header: v.optional(v.string()),
    algorithm: v.optional(v.string()),
    encoding: v.optional(v.string()),
    prefix: v.optional(v.string()),
    signedContent: v.optional(v.string()),
    timestampHeader: v.optional(v.string()),
    idHeader: v.optional(v.string()),
  }),
  v.description('How webhooks are verified; the secrets are never shown'),
)
export type VerifyView = v.InferOutput<typeof verifyView>

/** `verify` as given, or the `secret` shorthand for Standard Webhooks; a `none` without a token is no setting at all. */
export function verifyOfInput(input: { verify?: Verify | null; secret?: string | null }): Verify | null | undefined {
  if (input.verify === undefined) {
    if (input.secret === undefined || input.secret === null) return input.secret
    return { scheme: 'standard-webhooks', secrets: [input.secret], toleranceSeconds: defaultToleranceSeconds }
  }
  if (input.verify?.scheme === 'none' && input.verify.verifyToken === undefined) return null
  return input.verify
}
