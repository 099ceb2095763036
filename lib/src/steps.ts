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

export const step = v.variant('type', [
  v.strictObject({ type: v.literal('http'), config: httpConfig }),
  v.strictObject({ type: v.literal('log'), config: logConfig }),
])

export type Step = v.InferOutput<typeof step>
export type StepType = Step['type']

export const stepDescriptions: Record<StepType, string> = {
  http: 'Send an HTTP request; 2xx succeeds, its status, headers and body become the output',
  log: 'Record a rendered message as the output; handy for testing zaps',
}

export const steps = v.pipe(v.array(step), v.minLength(1, 'A zap needs at least one step'), v.maxLength(50, 'A zap has at most 50 steps'))
