import * as v from 'valibot'
import { RE2JS } from 're2js'
import { rateLimit } from './flow.ts'

const template = v.pipe(v.string(), v.maxLength(10_000))

const httpUrl = v.pipe(
  template,
  v.check((url) => url.includes('{{') || /^https?:\/\/[^\s/]+/i.test(url), 'Expected an http:// or https:// URL (templates allowed)'),
)

// The connection decides these: a step setting them could reach another virtual host or desynchronise the request.
const reservedHeaders = new Set(['host', 'content-length', 'transfer-encoding', 'connection'])

const headerName = v.pipe(
  v.string(),
  v.regex(/^[!#$%&'*+.^_`|~0-9a-z-]+$/i, 'Expected a valid header name'),
  v.check((name) => !reservedHeaders.has(name.toLowerCase()), 'Host, Content-Length, Transfer-Encoding and Connection are set by zap, not by a step'),
)
const headerValue = v.pipe(template, v.check((value) => !/[\r\n\0]/.test(value), 'A header value cannot contain CR, LF or NUL'))

export const httpConfig = v.strictObject({
  method: v.optional(v.picklist(['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD']), 'POST'),
  url: httpUrl,
  headers: v.optional(v.record(headerName, headerValue)),
  body: v.optional(v.unknown()),
  timeoutMs: v.optional(v.pipe(v.number(), v.integer(), v.minValue(100), v.maxValue(20_000))),
  rateLimit: v.optional(rateLimit),
})

export const logConfig = v.strictObject({
  message: template,
})

const operators = ['equals', 'not_equals', 'contains', 'starts_with', 'greater_than', 'less_than', 'exists', 'not_exists', 'matches'] as const
export type Operator = (typeof operators)[number]

export const maxPatternLength = 200
export const maxPatternInstructions = 300

const condition = v.pipe(
  v.strictObject({ left: v.unknown(), op: v.picklist(operators), right: v.optional(v.unknown()) }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed || dataset.value.op !== 'matches') return
    const right = dataset.value.right
    const problem = typeof right === 'string' ? compilePattern(right) : { error: 'matches needs a regular expression string as right' }
    if ('error' in problem) addIssue({ message: problem.error, path: [{ type: 'object', origin: 'value', input: dataset.value, key: 'right', value: right }] })
  }),
)

/**
 * Compiles a `matches` pattern with RE2, whose matching time is linear in the input; patterns it
 * cannot run (lookaround, backreferences) and programs too large to run quickly are refused.
 */
export function compilePattern(pattern: string): { regex: RE2JS } | { error: string } {
  const cached = compiledPatterns.get(pattern)
  if (cached) return cached
  const compiled = compileUncached(pattern)
  // Compiling costs milliseconds and a compiled pattern learns as it matches: the recent ones are kept.
  if (compiledPatterns.size >= maxCompiledPatterns) compiledPatterns.delete(compiledPatterns.keys().next().value!)
  compiledPatterns.set(pattern, compiled)
  return compiled
}

const maxCompiledPatterns = 256
const compiledPatterns = new Map<string, { regex: RE2JS } | { error: string }>()

function compileUncached(pattern: string): { regex: RE2JS } | { error: string } {
  if (pattern.length > maxPatternLength) return { error: `A regular expression is at most ${maxPatternLength} characters` }
  let regex: RE2JS
  try {
    regex = RE2JS.compile(pattern)
  } catch (error) {
    return { error: `Unsupported regular expression (RE2 syntax, no lookaround or backreferences): ${(error as Error).message}` }
  }
  if (instructionsOf(regex) > maxPatternInstructions) {
    return { error: `The regular expression is too complex to run quickly (its large repetition counts compile to more than ${maxPatternInstructions} instructions)` }
  }
  return { regex }
}

// Matching costs up to (program size x input length); re2js keeps the size on its compiled program.
const instructionsOf = (regex: RE2JS) => (regex as unknown as { re2Input: { prog: { numInst(): number } } }).re2Input.prog.numInst()

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

export const maxRecipients = 50

const emailAddress = /^[^\s@<>(),;:]+@[^\s@<>(),;:]+\.[^\s@<>(),;:]+$/

export const isEmailAddress = (address: string) => emailAddress.test(address)

/** The addresses of an email step's `to`, whether it is a list, comma-separated, or both. */
export const recipientsOf = (to: string | string[]) =>
  (Array.isArray(to) ? to : [to]).flatMap((entry) => entry.split(',')).map((address) => address.trim()).filter((address) => address !== '')

// A template may stand for several addresses: the rendered list is checked again, strictly, before sending.
const recipients = v.pipe(
  v.union([template, v.pipe(v.array(template), v.minLength(1), v.maxLength(maxRecipients))]),
  v.check((to) => recipientsOf(to).length >= 1, 'Expected at least one email address'),
  v.check((to) => recipientsOf(to).length <= maxRecipients, `An email has at most ${maxRecipients} recipients`),
  v.check((to) => recipientsOf(to).every((address) => address.includes('{{') || isEmailAddress(address)), 'Expected email addresses (a string, comma-separated, or a list)'),
)

export const emailConfig = v.pipe(
  v.strictObject({ to: recipients, subject: v.pipe(template, v.minLength(1, 'A subject is required'), v.maxLength(998)), text: v.optional(template), html: v.optional(template) }),
  v.check((config) => config.text !== undefined || config.html !== undefined, 'An email needs text or html'),
)

export const stopConfig = v.strictObject({
  status: v.optional(v.picklist(['succeeded', 'failed']), 'succeeded'),
  reason: v.optional(v.pipe(template, v.maxLength(2_000)), 'Stopped by a stop step'),
})

export const stepIdPattern = /^[a-z][a-z0-9_]{0,39}$/

/** A name for a step that templates use as `{{steps.<id>.output}}`; unique within a zap. */
export const stepId = v.pipe(v.string(), v.regex(stepIdPattern, 'Expected a step id: a lower-case letter, then up to 39 lower-case letters, digits or _'))

const stepOf = <Type extends string, Config extends v.GenericSchema>(type: Type, config: Config) =>
  v.strictObject({ id: v.optional(stepId), type: v.literal(type), config })

export const step = v.variant('type', [
  stepOf('http', httpConfig),
  stepOf('filter', filterConfig),
  stepOf('delay', delayConfig),
  stepOf('transform', transformConfig),
  stepOf('email', emailConfig),
  stepOf('log', logConfig),
  stepOf('stop', stopConfig),
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
  stop: 'End the run here as succeeded or failed, with a rendered reason; the remaining steps are skipped',
}

export const maxStepsBytes = 192 * 1024

export const steps = v.pipe(
  v.array(step),
  v.minLength(1, 'A zap needs at least one step'),
  v.maxLength(50, 'A zap has at most 50 steps'),
  v.check((steps) => Buffer.byteLength(JSON.stringify(steps)) <= maxStepsBytes, `A zap's steps are at most ${maxStepsBytes} bytes of JSON`),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const first = new Map<string, number>()
    for (const [index, step] of dataset.value.entries()) {
      if (step.id === undefined) continue
      const earlier = first.get(step.id)
      if (earlier === undefined) first.set(step.id, index)
      else addIssue({ message: `Step ids are unique within a zap: "${step.id}" is also the id of step ${earlier}`, path: idPath(dataset.value, index) })
    }
  }),
  v.rawCheck(({ dataset, addIssue }) => {
    if (!dataset.typed) return
    const path = findUnstorableText(dataset.value)
    if (path) addIssue({ message: 'Text cannot contain a NUL character or a lone UTF-16 surrogate', path: path as never })
  }),
)

const idPath = (steps: Step[], index: number) =>
  [
    { type: 'array', origin: 'value', input: steps, key: index, value: steps[index] },
    { type: 'object', origin: 'value', input: steps[index], key: 'id', value: steps[index]!.id },
  ] as never

type PathItem = { type: 'object' | 'array'; origin: 'key' | 'value'; input: unknown; key: string | number; value: unknown }

/** The path to the first string or key containing NUL or a lone surrogate (PostgreSQL cannot store either), else null. */
export function findUnstorableText(value: unknown, path: PathItem[] = []): PathItem[] | null {
  if (Array.isArray(value)) {
    for (const [index, item] of value.entries()) {
      const found = findUnstorableText(item, [...path, { type: 'array', origin: 'value', input: value, key: index, value: item }])
      if (found) return found
    }
  } else if (value !== null && typeof value === 'object') {
    for (const [key, item] of Object.entries(value)) {
      if (!isStorableText(key)) return [...path, { type: 'object', origin: 'key', input: value, key, value: item }]
      const found = findUnstorableText(item, [...path, { type: 'object', origin: 'value', input: value, key, value: item }])
      if (found) return found
    }
  } else if (typeof value === 'string' && !isStorableText(value)) {
    return path
  }
  return null
}

export const isStorableText = (text: string) => !text.includes('\0') && text.isWellFormed()
