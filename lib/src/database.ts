const unreachableCodes = new Set(['ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03'])

/** True for the errors postgres.js raises when PostgreSQL cannot be reached or is shutting down. */
export function isDatabaseDown(error: unknown) {
  return unreachableCodes.has((error as { code?: string })?.code ?? '')
}
