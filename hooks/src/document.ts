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

const signature =
  'A zap with a secret accepts only requests signed the Standard Webhooks way (https://www.standardwebhooks.com): ' +
  '`webhook-signature: v1,<base64 HMAC-SHA256 of "<webhook-id>.<webhook-timestamp>.<raw body>">` (several space-separated ' +
  'signatures allowed), keyed with the secret (a `whsec_` secret is base64 after the prefix), with a timestamp at most five minutes away.'

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
    header('idempotency-key', 'A repeated key for the same zap returns the first run (200) instead of starting another'),
    header('webhook-id', 'Standard Webhooks message id; used as the idempotency key when idempotency-key is absent'),
    header('webhook-timestamp', 'Standard Webhooks: Unix seconds when the request was signed'),
    header('webhook-signature', 'Standard Webhooks: `v1,<base64 signature>`, required for a zap with a secret'),
  ],
  requestBody: {
    required: false,
    description: 'Any body up to MAX_BODY_BYTES: JSON (`application/json`, `*+json`) is parsed, form-encoded becomes an object, anything else is kept as text',
    content: {
      'application/json': { schema: {} },
      'application/x-www-form-urlencoded': { schema: { type: 'object', additionalProperties: { type: 'string' } } },
      'text/plain': { schema: { type: 'string' } },
    },
  },
  responses: {
    202: { description: 'Accepted and stored; the run will execute', content: json(acceptedWebhook) },
    200: { description: 'A repeat of an earlier idempotency key: that run, nothing new stored', content: json(duplicateWebhook) },
    400: failure('The body says it is JSON but is not (`invalid_json`), or cannot be stored'),
    401: failure('The zap has a secret and the signature is missing, stale or wrong (`invalid_signature`)'),
    404: failure('No such zap, or it was deleted'),
    409: failure('The zap is disabled (`zap_disabled`)'),
    413: failure('The body is larger than MAX_BODY_BYTES (`body_too_large`)'),
    429: failure('More webhooks than the zap’s rate limit allows; retry after the Retry-After header'),
    503: failure('The database is unreachable; nothing was stored, retry'),
  },
})

const methods = (owner: boolean, summary: string) => ({
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
