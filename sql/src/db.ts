import postgres from 'postgres'

export type { Sql, TransactionSql } from 'postgres'

/** The one database client of a process. */
export function connect(url: string, options: { max?: number; statementTimeoutMs?: number } = {}) {
  return postgres(url, {
    max: options.max ?? 10,
    ...(options.statementTimeoutMs ? { connection: { statement_timeout: options.statementTimeoutMs } } : {}),
    connect_timeout: 5,
    idle_timeout: 60,
    // postgres.js waits up to 20 s between reconnects by default, parking queries meanwhile: with a
    // short cap the pool is back within half a second of the server.
    backoff: (attempt) => Math.min(0.05 * 2 ** attempt, 0.5),
    onnotice: () => {},
    transform: { undefined: null },
  })
}

/** A client of one connection for readiness checks, apart from the pool, so a check never queues behind requests. */
export const connectProbe = (url: string) => connect(url, { max: 1 })

/** True when PostgreSQL itself answered with this error, rather than the connection failing. */
export const isPostgresError = (error: unknown) => error instanceof postgres.PostgresError
