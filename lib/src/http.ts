import { Elysia } from 'elysia'
import { HttpError } from './errors.ts'

type Issue = { message: string; path?: ReadonlyArray<PropertyKey | { key: PropertyKey }> }
type StandardSchema = { '~standard': { validate: (value: unknown) => { issues?: Issue[] } | Promise<{ issues?: Issue[] }> } }

/** The one place that turns thrown errors into `{ error: { code, message, details? } }`. */
export const errorHandler = new Elysia({ name: 'zap/errors' }).onError({ as: 'global' }, async ({ code, error, set }) => {
  const body = await describe(code, error)
  set.status = body.status
  return { error: { code: body.code, message: body.message, ...(body.details ? { details: body.details } : {}) } }
})

async function describe(code: string | number, error: unknown) {
  if (error instanceof HttpError) return error
  if (code === 'VALIDATION') return validationError(error)
  if (code === 'NOT_FOUND') return new HttpError(404, 'not_found', 'No such route')
  if (code === 'PARSE') return new HttpError(400, 'invalid_body', 'The request body is not valid JSON')
  if (isDatabaseDown(error)) return new HttpError(503, 'database_unavailable', 'The database is unreachable; retry shortly')
  if ((error as { code?: string })?.code === '22P05') return new HttpError(400, 'invalid_body', 'The body contains a \\u0000 character, which cannot be stored')
  console.error(error)
  return new HttpError(500, 'internal', 'Internal error')
}

async function validationError(error: unknown) {
  const { validator, value, type } = error as { validator?: { schema?: StandardSchema }; value: unknown; type?: string }
  const schema = validator?.schema
  const result = schema?.['~standard'] ? await schema['~standard'].validate(value) : { issues: [] }
  const details = (result.issues ?? []).map((issue) => ({ path: pathOf(issue), message: issue.message }))
  const first = details[0]
  const where = type === 'body' ? '' : `${type ?? 'request'} `
  const message = first ? `${where}${first.path || 'value'}: ${first.message}` : 'Invalid request'
  return new HttpError(400, 'invalid_input', message, details)
}

const pathOf = (issue: Issue) =>
  (issue.path ?? []).map((segment) => String(typeof segment === 'object' ? segment.key : segment)).join('.')

const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03'])

export function isDatabaseDown(error: unknown) {
  return unreachableCodes.has((error as { code?: string })?.code ?? '')
}
