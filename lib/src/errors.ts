export class HttpError extends Error {
  constructor(
    readonly status: number,
    readonly code: string,
    message: string,
    readonly details?: unknown,
    readonly headers?: Record<string, string>,
  ) {
    super(message)
  }
}

export const badRequest = (message: string, details?: unknown) => new HttpError(400, 'invalid_input', message, details)
export const unauthorized = (message = 'Missing or invalid token. Log in again.') => new HttpError(401, 'unauthorized', message)
export const notFound = (what: string) => new HttpError(404, 'not_found', `${what} not found`)
export const conflict = (code: string, message: string) => new HttpError(409, code, message)
/** PostgreSQL restarts in about two seconds: a client is asked to retry after that long. */
export const databaseUnavailable = (problem: string | null = null) =>
  problem
    ? new HttpError(503, 'database_not_ready', `The database is not ready: ${problem}`, undefined, { 'retry-after': '2' })
    : new HttpError(503, 'database_unavailable', 'The database is unreachable; retry shortly', undefined, { 'retry-after': '2' })
export const tooManyRequests = (retryAfterSeconds: number) =>
  new HttpError(429, 'rate_limited', `Too many requests; retry in ${retryAfterSeconds} s`, undefined, { 'retry-after': String(retryAfterSeconds) })
