import { Elysia } from 'elysia'
import { databaseUnavailable, HttpError } from './errors.ts'
import { newId } from './ids.ts'
import { databaseSetupProblem, isDatabaseDown } from './database.ts'
import type { Logger } from './log.ts'
import { printable } from './body.ts'

type Issue = { message: string; received?: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }
type StandardSchema = { '~standard': { validate: (value: unknown) => { issues?: Issue[] } | Promise<{ issues?: Issue[] }> } }

type RequestContext = { id: string; startedAt: number }

// An incoming id is kept only when it is short and printable, so it cannot smuggle anything into logs or headers.
const validRequestId = /^[A-Za-z0-9._:@/+=-]{1,128}$/
const quietPaths = new Set(['/healthz', '/readyz', '/metrics'])

/**
 * Request ids (a valid incoming `X-Request-Id` is kept, else one is made; either is echoed), one log line
 * per request carrying it, and the one place that turns thrown errors into `{ error: { code, message, details? } }`.
 */
export function requestHandling(log: Logger) {
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
    .onAfterResponse({ as: 'global' }, ({ request, set, responseValue }) => {
      const context = contexts.get(request)
      const url = new URL(request.url)
      const status = responseValue instanceof Response ? responseValue.status : Number(set.status ?? 200)
      const line = { requestId: context?.id, method: request.method, path: url.pathname, status, ms: context ? Math.round(performance.now() - context.startedAt) : undefined }
      if (quietPaths.has(url.pathname)) log.debug(line, 'request')
      else log.info(line, 'request')
    })
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

const pathOf = (issue: Issue) =>
  (issue.path ?? []).map((segment) => printable(String(typeof segment === 'object' ? segment.key : segment))).join('.')

// valibot's default messages end with the received value; an error never repeats the input.
function withoutInput(issue: Issue) {
  const suffix = ` but received ${issue.received}`
  return issue.received !== undefined && issue.message.endsWith(suffix) ? issue.message.slice(0, -suffix.length) : issue.message
}
