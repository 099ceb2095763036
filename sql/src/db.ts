import postgres from 'postgres'
import type { Sql } from 'postgres'

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

/**
 * The client with a deadline on each query it runs and on the start of each transaction: past
 * `timeoutMs`, or at once while `unavailable()` returns an error (the database is known to be away),
 * the caller gets an error instead of waiting on postgres.js, which parks queries while it reconnects
 * and waits as long as a frozen server does. A transaction that starts after its deadline rolls back
 * at once; the statements inside a transaction that started in time are not bounded here (bulk work).
 */
export function withDeadline(sql: Sql, timeoutMs: number, unavailable: () => Error | null): Sql {
  const bound = <T>(start: () => Promise<T>): Promise<T> => {
    const refused = unavailable()
    if (refused) return Promise.reject(refused)
    let timer: ReturnType<typeof setTimeout> | undefined
    const late = new Promise<never>((_, reject) => (timer = setTimeout(() => reject(deadlineError(timeoutMs)), timeoutMs)))
    return Promise.race([start(), late]).finally(() => clearTimeout(timer))
  }
  return new Proxy(sql, {
    apply(target, thisArg, args) {
      const query = Reflect.apply(target, thisArg, args)
      // A query only runs when awaited; used as a fragment of another query it never is.
      if (query instanceof Promise) boundOnAwait(query, bound)
      return query
    },
    get(target, property, receiver) {
      if (property === 'unsafe') return (...args: Parameters<Sql['unsafe']>) => boundOnAwait(target.unsafe(...args), bound)
      if (property === 'begin') return (...args: unknown[]) => beginInTime(target, timeoutMs, unavailable, args)
      return Reflect.get(target, property, receiver)
    },
  })
}

function beginInTime(sql: Sql, timeoutMs: number, unavailable: () => Error | null, args: unknown[]) {
  const refused = unavailable()
  if (refused) return Promise.reject(refused)
  const work = args.pop() as (tx: unknown) => Promise<unknown>
  let late = false
  let started!: () => void
  const begun = new Promise<void>((resolve) => (started = resolve))
  const transaction = (sql.begin as (...all: unknown[]) => Promise<unknown>)(...args, (tx: unknown) => {
    if (late) throw deadlineError(timeoutMs)
    started()
    return work(tx)
  })
  let timer: ReturnType<typeof setTimeout> | undefined
  const deadline = new Promise<never>((_, reject) => (timer = setTimeout(() => {
    late = true
    reject(deadlineError(timeoutMs))
  }, timeoutMs)))
  void begun.then(() => clearTimeout(timer))
  // Once begun, the transaction's own outcome is the answer; before that, whichever comes first.
  return Promise.race([transaction, begun.then(() => transaction), deadline]).finally(() => clearTimeout(timer))
}

function boundOnAwait<Q extends Promise<unknown>>(query: Q, bound: <T>(start: () => Promise<T>) => Promise<T>) {
  const run = query.then
  let answer: Promise<unknown> | undefined
  const answered = () => (answer ??= bound(() => run.call(query, (value: unknown) => value)))
  Object.assign(query, {
    then: (ok?: (value: unknown) => unknown, fail?: (error: unknown) => unknown) => answered().then(ok, fail),
    catch: (fail?: (error: unknown) => unknown) => answered().catch(fail),
    finally: (done?: () => void) => answered().finally(done),
  })
  return query
}

/** The error of a query that outlived its deadline; `code` marks it as the database being away. */
const deadlineError = (timeoutMs: number) => Object.assign(new Error(`The database did not answer within ${timeoutMs} ms`), { code: 'DATABASE_DEADLINE' })
