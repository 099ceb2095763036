import { Elysia } from 'elysia'
import { databaseUnavailable, HttpError } from './errors.ts'
import { newId } from './ids.ts'
import { databaseSetupProblem, isDatabaseDown } from './database.ts'
import type { Logger } from './log.ts'
import { printable } from './body.ts'
import { httpRequests, httpRequestSeconds } from './metrics.ts'

type Issue = { message: string; expected?: string | null; received?: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }
type StandardSchema = { '~standard': { validate: (value: unknown) => { issues?: Issue[] } | Promise<{ issues?: Issue[] }> } }

type RequestContext = { id: string; startedAt: number }

// An incoming id is kept only when it is short and printable, so it cannot smuggle anything into logs or headers.
const validRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const quietPaths = new Set(['/healthz', '/readyz', '/metrics'])
const lineFields = new WeakMap<Request, Record<string, unknown>>()

/** Adds `fields` to the log line of `request` (a webhook's zapId, runId and trace_id), so it joins the lines of what it started. */
export function addToRequestLine(request: Request, fields: Record<string, unknown>) {
  lineFields.set(request, { ...lineFields.get(request), ...fields })
}

/**
 * Request ids (a valid incoming `X-Request-Id` is kept, else one is made; either is echoed), one log line
 * per request carrying it, and the one place that turns thrown errors into `{ error: { code, message, details? } }`.
 * With `countRequests` (the API; hooks counts webhooks its own way), each answer is counted by route and status.
 * `lineLevel` is the level of the request lines: `debug` keeps a person's terminal to what matters (a CLI's polls are requests too).
 */
export function requestHandling(log: Logger, { countRequests = false, lineLevel = 'info' as 'info' | 'debug' } = {}) {
  const contexts = new WeakMap<Request, RequestContext>()
  return new Elysia({ name: 'zap/requests' })
    .onRequest(({ request, set }) => {
      const incoming = request.headers.get('x-request-id')
      const id = incoming && validRequestId.test(incoming) ? incoming : newId()
      contexts.set(request, { id, startedAt: performance.now() })
      set.headers['x-request-id'] = id
    })
    .onError({ as: 'global' }, async ({ code, error, set, request }) => {
      const body = await describe(code, error)
      if (body.status >= 500 && body.code === 'internal') log.error({ requestId: contexts.get(request)?.id, err: error }, 'unexpected error')
      set.status = body.status
      if (body.headers) Object.assign(set.headers, body.headers)
      return { error: { code: body.code, message: body.message, ...(body.details ? { details: body.details } : {}) } }
    })
    .onAfterResponse({ as: 'global' }, ({ request, set, responseValue, route }) => {
      const context = contexts.get(request)
      const url = new URL(request.url)
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200)
      const seconds = context ? (performance.now() - context.startedAt) / 1000 : undefined
      if (countRequests && seconds !== undefined) countRequest(request.method, route, status, seconds)
      const line = { requestId: context?.id, method: request.method, path: url.pathname, status, ms: seconds !== undefined ? Math.round(seconds * 1000) : undefined, ...lineFields.get(request) }
      if (quietPaths.has(url.pathname)) log.debug(line, 'request')
      else log[lineLevel](line, 'request')
    })
}

// A route is its pattern, never the path: an unmatched request counts as one route, so a scan of random paths adds no series.
const knownMethods = new Set(['GET', 'HEAD', 'POST', 'PUT', 'PATCH', 'DELETE', 'OPTIONS'])
function countRequest(method: string, route: string | undefined, status: number, seconds: number) {
  const labels = { method: knownMethods.has(method) ? method : 'other', route: route || 'unmatched' }
  httpRequests.inc({ ...labels, status: String(status) })
  httpRequestSeconds.observe(labels, seconds)
}

async function describe(code: string | number, error: unknown) {
  if (error instanceof HttpError) return error
  // A response that breaks its declared schema is our bug, not the caller's.
  if (code === 'VALIDATION' && (error as { type?: string }).type === 'response') return new HttpError(500, 'internal', 'Internal error')
  if (code === 'VALIDATION') return validationError(error)
  if (code === 'NOT_FOUND') return new HttpError(404, 'not_found', 'No such route')
  if (code === 'PARSE') {
    const cause = (error as { cause?: unknown }).cause
    return cause instanceof HttpError ? cause : new HttpError(400, 'invalid_body', 'The request body is not valid JSON')
  }
  if (isDatabaseDown(error)) return databaseUnavailable(databaseSetupProblem(error))
  if ((error as { code?: string })?.code === '22P05') return new HttpError(400, 'invalid_body', 'The body contains a \\u0000 character, which cannot be stored')
  return new HttpError(500, 'internal', 'Internal error')
}

async function validationError(error: unknown) {
  const { validator, value, type } = error as { validator?: { schema?: StandardSchema }; value: unknown; type?: string }
  const schema = validator?.schema
  const result = schema?.['~standard'] ? await schema['~standard'].validate(value) : { issues: [] }
  const details = (result.issues ?? []).map((issue) => ({ path: pathOf(issue), message: withoutInput(issue) }))
  const first = details[0]
  const where = type === 'body' ? '' : `${type ?? 'request'} `
  const message = first ? `${where}${first.path || 'value'}: ${first.message}` : 'Invalid request'
  return new HttpError(400, 'invalid_input', message, details)
}

const pathOf = (issue: Issue) => (issue.path ?? []).map((segment) => printable(String(keyOf(segment)))).join('.')

const keyOf = (segment: PropertyKey | { key: PropertyKey }) => (typeof segment === 'object' ? segment.key : segment)

// valibot's default messages end with the received value; an error never repeats the input. A missing or
// unknown key reads "Invalid key: Expected ..." there, which says neither: it is named instead.
function withoutInput(issue: Issue) {
  if (issue.message.startsWith('Invalid key:')) {
    const key = printable(String(keyOf(issue.path?.at(-1) ?? '')))
    if (issue.received === 'undefined') return `${key} is required`
    if (issue.expected === 'never') return `${key} is not a known field`
  }
  const suffix = ` but received ${issue.received}`
  return issue.received !== undefined && issue.message.endsWith(suffix) ? issue.message.slice(0, -suffix.length) : issue.message
}
