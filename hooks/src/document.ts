import * as v from 'valibot'
import { apiError } from '@zap/lib/resources'
import { jsonSchemaOf } from '@zap/lib/openapi'

// The receiver reads raw requests (any content type, counted bytes), so its operations are described here
// rather than derived from route schemas.

export const acceptedWebhook = v.object({
  runId: v.pipe(v.string(), v.uuid(), v.description('The run this request started')),
  debouncedInto: v.optional(v.pipe(v.string(), v.uuid(), v.description('For a debounced zap: the waiting run that took this payload; this run is recorded as debounced'))),
})
export const duplicateWebhook = v.object({ ...acceptedWebhook.entries, duplicate: v.literal(true) })
const slackChallenge = v.object({ challenge: v.pipe(v.string(), v.description('Slack’s url_verification challenge, echoed')) })

const signature =
  'A zap with a `verify` setting accepts only requests its sender signed, checked on the raw body in constant time ' +
  '(refusals are listed by `GET /api/v1/zaps/{id}/rejections`). Schemes: `standard-webhooks` (https://www.standardwebhooks.com, ' +
  'also Svix: `webhook-*` or `svix-*` headers, `v1,<base64 HMAC-SHA256 of "<id>.<timestamp>.<raw body>">` keyed with the base64 secret ' +
  '(after an optional `whsec_`), or `v1a,<base64 ed25519>` for a public key; five minutes’ tolerance); `github` (`X-Hub-Signature-256: sha256=<hex>`); ' +
  '`stripe` (`Stripe-Signature: t=…,v1=<hex HMAC of "<t>.<body>">`); `shopify` (`X-Shopify-Hmac-Sha256: <base64>`); `slack` ' +
  '(`X-Slack-Signature: v0=<hex HMAC of "v0:<X-Slack-Request-Timestamp>:<body>">`; its `url_verification` challenge is answered); `hmac` ' +
  '(any header, algorithm, encoding, prefix and signed content); `basic` and `bearer` (`Authorization`). The sender’s own delivery id ' +
  '(`webhook-id`/`svix-id`, `X-GitHub-Delivery`, the Stripe event `id`, `X-Shopify-Webhook-Id`, the Slack `event_id`) is then the ' +
  'idempotency key: a repeat is the same run, and `Idempotency-Key` cannot start another.'

const header = (name: string, description: string) => ({ name, in: 'header', required: false, schema: { type: 'string' }, description })
const pathId = (name: string, description: string) => ({ name, in: 'path', required: true, schema: { type: 'string', format: 'uuid' }, description })

const json = (schema: v.GenericSchema) => ({ 'application/json': { schema: jsonSchemaOf(schema) } })
const failure = (description: string) => ({ description, content: json(apiError) })

const operation = (operationId: string, summary: string, owner: boolean) => ({
  operationId,
  summary,
  description: `Every accepted request becomes a run of the zap. The answer is sent only after the run is committed. ${signature}`,
  tags: ['webhooks'],
  security: [],
  parameters: [
    ...(owner ? [pathId('userId', 'The zap owner’s user id; another owner’s zap is 404')] : []),
    pathId('zapId', 'The zap’s id, as in its webhook URL'),
    header('idempotency-key', 'A repeated key for the same zap returns the first run (200) instead of starting another; ignored for a verified sender that names its deliveries'),
    header('webhook-id', 'Standard Webhooks message id; used as the idempotency key when idempotency-key is absent'),
    header('webhook-timestamp', 'Standard Webhooks: Unix seconds when the request was signed'),
    header('webhook-signature', 'Standard Webhooks: `v1,<base64 signature>` or `v1a,<base64 ed25519 signature>`, several space-separated'),
    header('svix-id', 'Svix’s name for webhook-id'),
    header('svix-timestamp', 'Svix’s name for webhook-timestamp'),
    header('svix-signature', 'Svix’s name for webhook-signature'),
    header('x-hub-signature-256', 'GitHub (scheme `github`): `sha256=<hex HMAC-SHA256 of the body>`'),
    header('x-github-delivery', 'GitHub’s delivery id: a redelivery is the same run'),
    header('stripe-signature', 'Stripe (scheme `stripe`): `t=<unix seconds>,v1=<hex HMAC-SHA256 of "<t>.<body>">`'),
    header('x-shopify-hmac-sha256', 'Shopify (scheme `shopify`): base64 HMAC-SHA256 of the body'),
    header('x-shopify-webhook-id', 'Shopify’s delivery id: a retry is the same run'),
    header('x-slack-signature', 'Slack (scheme `slack`): `v0=<hex HMAC-SHA256 of "v0:<timestamp>:<body>">`'),
    header('x-slack-request-timestamp', 'Slack: Unix seconds when the request was signed'),
  ],
  requestBody: {
    required: false,
    description:
      'Any body up to MAX_BODY_BYTES: JSON (`application/json`, `*+json`) is parsed, form-encoded becomes an object (a single `payload` field holding JSON becomes that JSON), anything else is kept as text',
    content: {
      'application/json': { schema: {} },
      'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } },
      'text/plain': { schema: { type: 'string' } },
    },
  },
  responses: {
    202: { description: 'Accepted and stored; the run will execute', content: json(acceptedWebhook) },
    200: {
      description: 'A repeat of an earlier idempotency key or delivery id: that run, nothing new stored; or, for a `slack` zap, the answer to a signed `url_verification`',
      content: json(v.union([duplicateWebhook, slackChallenge])),
    },
    400: failure('The body says it is JSON but is not (`invalid_json`), or cannot be stored'),
    401: failure('The zap verifies its webhooks and the signature or credential is missing, stale or wrong (`invalid_signature`, recorded in the zap’s rejections)'),
    404: failure('No such zap, or it was deleted'),
    409: failure('The zap is disabled (`zap_disabled`)'),
    413: failure('The body is larger than MAX_BODY_BYTES (`body_too_large`)'),
    429: failure('More webhooks than the zap’s rate limit allows; retry after the Retry-After header'),
    503: failure('Retry after Retry-After seconds. `database_unavailable` (the database did not store it within INGEST_TIMEOUT_MS) and `overloaded` (INGEST_MAX_PENDING webhooks already wait): nothing was stored. `outcome_unknown` (the connection dropped while committing): it may be stored; resend with the same Idempotency-Key'),
  },
})

const query = (name: string, description: string) => ({ name, in: 'query', required: true, schema: { type: 'string' }, description })

const subscriptionCheck = (owner: boolean) => ({
  operationId: owner ? 'answerOwnedSubscriptionCheck' : 'answerSubscriptionCheck',
  summary: 'Answer a Meta-style subscription check',
  description: 'Facebook, Instagram and WhatsApp check a webhook URL with a GET before they send to it: the challenge is echoed when the token is the zap’s `verify.verifyToken`. No run is started.',
  tags: ['webhooks'],
  security: [],
  parameters: [
    ...(owner ? [pathId('userId', 'The zap owner’s user id; another owner’s zap is 404')] : []),
    pathId('zapId', 'The zap’s id, as in its webhook URL'),
    query('hub.mode', 'subscribe'),
    query('hub.challenge', 'Echoed back, at most 1,000 characters'),
    query('hub.verify_token', 'Must equal the zap’s verifyToken'),
  ],
  responses: {
    200: { description: 'The challenge, as text', content: { 'text/plain': { schema: { type: 'string' } } } },
    400: failure('Not a subscription check (`invalid_subscription_check`)'),
    403: failure('The token is not the zap’s verifyToken (`invalid_verify_token`, recorded in the zap’s rejections)'),
    404: failure('No such zap, or it was deleted'),
    429: failure('More requests than the zap’s rate limit allows; retry after the Retry-After header'),
    503: failure('The database is unreachable; retry'),
  },
})

const methods = (owner: boolean, summary: string) => ({
  get: subscriptionCheck(owner),
  post: operation(owner ? 'receiveOwnedWebhook' : 'receiveWebhook', summary, owner),
  put: operation(owner ? 'receiveOwnedWebhookPut' : 'receiveWebhookPut', `${summary} (PUT)`, owner),
  patch: operation(owner ? 'receiveOwnedWebhookPatch' : 'receiveWebhookPatch', `${summary} (PATCH)`, owner),
})

export const hooksDocument = {
  info: {
    title: 'zap webhooks',
    version: '1.0.0',
    description: 'The webhook receiver: each request to a zap’s URL becomes a run. Zaps themselves are managed through the zap API.',
  },
  tags: [
    { name: 'webhooks', description: 'Requests that start runs' },
    { name: 'health', description: 'Liveness and readiness probes' },
  ],
  paths: {
    '/hooks/{zapId}': methods(false, 'Start a run of a zap'),
    '/hooks/catch/{userId}/{zapId}': methods(true, 'Start a run of a zap, naming its owner'),
  },
}
