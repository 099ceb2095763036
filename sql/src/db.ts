import postgres from 'postgres'

export type { Sql, TransactionSql } from 'postgres'

/** The one database client of a process. */
export function connect(url: string, options: { max?: number } = {}) {
  return postgres(url, {
    max: options.max ?? 10,
    connect_timeout: 5,
    idle_timeout: 60,
    onnotice: () => {},
    transform: { undefined: null },
  })
}
