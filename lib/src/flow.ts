import * as v from 'valibot'

export const maxConcurrencyLimit = 1_000
export const maxRateLimitRequests = 1_000
export const maxRateLimitPeriodSeconds = 86_400
export const maxDebounceWaitSeconds = 3_600
export const maxDebounceMaxWaitSeconds = 86_400

const reference = /\{\{\s*([^{}]*?)\s*\}\}/g
const triggerPath = /^trigger\.(body|headers|query)(\.[\w$-]+)+$/

/** A key is rendered when the webhook arrives, so it can only use the trigger. */
const keyTemplate = v.pipe(
  v.string(),
  v.minLength(1),
  v.maxLength(500),
  v.check((key) => !key.replaceAll(reference, '').includes('{{'), 'Expected a template with complete {{...}} references'),
  v.check(
    (key) => [...key.matchAll(reference)].every((match) => triggerPath.test(match[1]!)),
    'A key may only reference the trigger, such as {{trigger.body.customer_id}} or {{trigger.headers.x-tenant}}',
  ),
)

export const concurrency = v.strictObject({
  limit: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(maxConcurrencyLimit)),
  key: v.optional(keyTemplate),
})

export const debounce = v.pipe(
  v.strictObject({
    waitSeconds: v.pipe(v.number(), v.minValue(0.1), v.maxValue(maxDebounceWaitSeconds)),
    maxWaitSeconds: v.optional(v.pipe(v.number(), v.minValue(0.1), v.maxValue(maxDebounceMaxWaitSeconds))),
    key: v.optional(keyTemplate),
  }),
  v.check((config) => config.maxWaitSeconds === undefined || config.maxWaitSeconds >= config.waitSeconds, 'maxWaitSeconds must be at least waitSeconds'),
)

export const rateLimit = v.strictObject({
  requests: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(maxRateLimitRequests)),
  perSeconds: v.pipe(v.number(), v.minValue(0.1), v.maxValue(maxRateLimitPeriodSeconds)),
  group: v.optional(v.pipe(v.string(), v.regex(/^[\w.:-]{1,100}$/, 'A group is 1-100 letters, digits, ".", ":", "_" or "-"'))),
})

export type Concurrency = v.InferOutput<typeof concurrency>
export type Debounce = v.InferOutput<typeof debounce>

// Without its own maxWaitSeconds a steady stream of webhooks would postpone the run forever.
const defaultDebounceMaxWaitFactor = 10

/** How long a debounced run may be postponed from its start: its maxWaitSeconds, else 10 times its waitSeconds. */
export const debounceMaxWaitSeconds = (config: Debounce) => config.maxWaitSeconds ?? config.waitSeconds * defaultDebounceMaxWaitFactor
export type RateLimit = v.InferOutput<typeof rateLimit>
