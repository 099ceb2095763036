const unreachableCodes = new Set(['DATABASE_DEADLINE', 'ECONNREFUSED', 'ECONNRESET', 'CONNECTION_CLOSED', 'CONNECTION_ENDED', 'CONNECTION_DESTROYED', 'CONNECT_TIMEOUT', 'ETIMEDOUT', 'EPIPE', '57P01', '57P03'])

/**
 * True for the errors postgres.js raises when PostgreSQL cannot be reached or is shutting down, and
 * for PostgreSQL's class 53 (out of disk, memory or connections): the database cannot take work
 * until an operator or time frees what it lacks, so it is an outage like any other.
 */
export function isDatabaseDown(error: unknown) {
  const code = (error as { code?: string })?.code ?? ''
  return unreachableCodes.has(code) || insufficientResources.test(code) || setupCodes.has(code)
}

// A database that does not exist yet, or has no tables yet: waited for like an outage, and said so.
const setupCodes = new Set(['3D000', '42P01'])

const insufficientResources = /^53[0-9A-Z]{3}$/

/** What an operator must do when the database answers but is not the one zap needs yet, or null. */
export function databaseSetupProblem(error: unknown) {
  const { code, message } = (error as { code?: string; message?: string }) ?? {}
  if (code === '3D000') return `${message}: create it (for example \`createdb\`) or fix DATABASE_URL; retrying until it exists`
  if (code === '42P01') return `the database has no zap tables (${message}): run \`bun run migrate\` with this DATABASE_URL; retrying until it is migrated`
  return null
}
