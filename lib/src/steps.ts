import * as v from 'valibot'

const template = v.pipe(v.string(), v.maxLength(10_000))

const httpUrl = v.pipe(
  template,
  v.check((url) => url.includes('{{') || /^https?:\/\/[^\s/]+/i.test(url), 'Expected an http:// or https:// URL (templates allowed)'),
)

export const httpConfig = v.strictObject({
  method: v.optional(v.picklist(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']), 'POST'),
  url: httpUrl,
  headers: v.optional(v.record(v.pipe(v.string(), v.regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/i, 'Expected a valid header name')), template)),
  body: v.optional(v.unknown()),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(20_000))),
})

export const logConfig = v.strictObject({
  message: template,
})

const operators = ['equals', 'not_equals', 'contains', 'starts_with', 'greater_than', 'less_than', 'exists', 'not_exists', 'matches'] as const
export type Operator = (typeof operators)[number]

// Nested quantifiers such as (a+)+ can backtrack for ever; such patterns are refused outright.
const nestedQuantifier = /\((?:[^()\\]|\\.)*[+*}](?:[^()\\]|\\.)*\)[+*{?]/

const condition = v.pipe(
  v.strictObject({ left: v.unknown(), op: v.picklist(operators), right: v.optional(v.unknown()) }),
  v.check((condition) => condition.op !== 'matches' || typeof condition.right === 'string', 'matches needs a regular expression string as right'),
  v.check((condition) => condition.op !== 'matches' || isSafePattern(String(condition.right)), 'The regular expression must be valid, at most 200 characters and without nested quantifiers'),
)

export function isSafePattern(pattern: string) {
  if (pattern.length > 200 || nestedQuantifier.test(pattern)) return false
  try {
    new RegExp(pattern)
    return true
  } catch {
    return false
  }
}

export const filterConfig = v.strictObject({
  conditions: v.pipe(v.array(condition), v.minLength(1, 'A filter needs at least one condition'), v.maxLength(50)),
  match: v.optional(v.picklist(['all', 'any']), 'all'),
})

export const maxDelaySeconds = 30 * 24 * 60 * 60

const isoTime = v.pipe(template, v.check((value) => value.includes('{{') || !Number.isNaN(Date.parse(value)), 'Expected an ISO time such as 2026-12-01T09:00:00Z'))

export const delayConfig = v.union(
  [
    v.strictObject({ seconds: v.union([v.pipe(v.number(), v.minValue(0), v.maxValue(maxDelaySeconds, 'A delay is at most 30 days')), v.pipe(template, v.includes('{{'))]) }),
    v.strictObject({ until: isoTime }),
  ],
  'Expected {seconds} (at most 30 days) or {until} (an ISO time)',
)

export const transformConfig = v.strictObject({
  output: v.unknown(),
})

const emailAddress = /^[^\s@<>(),;:]+@[^\s@<>(),;:]+\.[^\s@<>(),;:]+$/
const recipients = v.pipe(
  v.union([template, v.pipe(v.array(template), v.minLength(1), v.maxLength(50))]),
  v.check(
    (to) => (Array.isArray(to) ? to : to.split(',')).every((address) => address.includes('{{') || emailAddress.test(address.trim())),
    'Expected email addresses (a string, comma-separated, or a list)',
  ),
)

export const emailConfig = v.pipe(
  v.strictObject({ to: recipients, subject: v.pipe(template, v.minLength(1, 'A subject is required'), v.maxLength(998)), text: v.optional(template), html: v.optional(template) }),
  v.check((config) => config.text !== undefined || config.html !== undefined, 'An email needs text or html'),
)

export const step = v.variant('type', [
  v.strictObject({ type: v.literal('http'), config: httpConfig }),
  v.strictObject({ type: v.literal('filter'), config: filterConfig }),
  v.strictObject({ type: v.literal('delay'), config: delayConfig }),
  v.strictObject({ type: v.literal('transform'), config: transformConfig }),
  v.strictObject({ type: v.literal('email'), config: emailConfig }),
  v.strictObject({ type: v.literal('log'), config: logConfig }),
])

export type Step = v.InferOutput<typeof step>
export type StepType = Step['type']

export const stepDescriptions: Record<StepType, string> = {
  http: 'Send an HTTP request; 2xx succeeds, its status, headers and body become the output',
  filter: 'Continue only when the conditions hold; otherwise the run ends succeeded and later steps are skipped',
  delay: 'Wait for a number of seconds or until a time (at most 30 days) without holding a worker',
  transform: 'Build a new object from the trigger and earlier outputs; it becomes this step’s output',
  email: 'Send an email through the SMTP server configured with SMTP_URL',
  log: 'Record a rendered message as the output; handy for testing zaps',
}

export const steps = v.pipe(v.array(step), v.minLength(1, 'A zap needs at least one step'), v.maxLength(50, 'A zap has at most 50 steps'))
