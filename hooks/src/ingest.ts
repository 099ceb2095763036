import { isPostgresError, type Sql, type TransactionSql } from '@zap/sql/db'
import { HttpError } from '@zap/lib/errors'

export type IngestLimits = { timeoutMs: number; maxPending: number }

/**
 * Puts the database part of a webhook under one deadline of `timeoutMs` (the time spent reading the
 * body does not count): past it the request is answered 503, and its transaction, wherever it is,
 * rolls back instead of committing, because COMMIT is only sent before the deadline (a 503 is never
 * stored later). At most `maxPending` webhooks wait for their transaction at once; more are answered
 * 503 at once, so an outage cannot pile requests up.
 */
export function ingestion(sql: Sql, { timeoutMs, maxPending }: IngestLimits) {
  let pending = 0

  /** Starts the deadline of one webhook, for what it asks the database before `store`. */
  function deadline() {
    let spentMs = 0
    return {
      async before<T>(work: Promise<T>): Promise<T> {
        const startedAt = performance.now()
        let timer: ReturnType<typeof setTimeout> | undefined
        try {
          return await Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(tooSlow(timeoutMs)), timeoutMs - spentMs)))])
        } finally {
          clearTimeout(timer)
          spentMs += performance.now() - startedAt
        }
      },
      remainingMs: () => Math.max(0, timeoutMs - spentMs),
    }
  }

  /** Runs `store` in a transaction that commits only within what is left of the deadline. */
  async function store<T>(webhook: ReturnType<typeof deadline>, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    if (pending >= maxPending) throw overloaded(maxPending)
    pending++
    const transaction = withinDeadline(sql, webhook.remainingMs(), timeoutMs, work)
    transaction.settled.finally(() => pending--)
    return transaction.answer
  }

  return { deadline, store }
}

type Phase = 'working' | 'committing' | 'answered'

function withinDeadline<T>(sql: Sql, remainingMs: number, timeoutMs: number, store: (tx: TransactionSql) => Promise<T>) {
  let phase: Phase = 'working'
  // A function, because the phase changes while the transaction awaits.
  const answeredAlready = () => phase === 'answered'
  let answer!: { resolve: (value: T) => void; reject: (error: unknown) => void }
  const answered = new Promise<T>((resolve, reject) => (answer = { resolve, reject }))
  const giveUp = (error: HttpError) => {
    phase = 'answered'
    answer.reject(error)
  }

  // A COMMIT already sent decides the answer; it gets as long again to arrive before the answer says it is unknown.
  const deadline = setTimeout(() => {
    if (phase === 'working') return giveUp(tooSlow(timeoutMs))
    graceTimer = setTimeout(() => phase === 'committing' && giveUp(outcomeUnknown()), timeoutMs)
  }, remainingMs)
  let graceTimer: ReturnType<typeof setTimeout> | undefined

  const settled = sql.begin(async (tx) => {
    if (answeredAlready()) throw abandoned
    const result = await store(tx)
    if (answeredAlready()) throw abandoned
    phase = 'committing'
    return result
  })
  settled.then(
    (result) => {
      if (phase === 'answered') return
      phase = 'answered'
      answer.resolve(result as T)
    },
    (error) => {
      if (phase === 'answered') return
      const unknown = phase === 'committing' && !isPostgresError(error)
      phase = 'answered'
      if (unknown) answer.reject(outcomeUnknown())
      else if ((error as { code?: string }).code === statementTimeout) answer.reject(tooSlow(timeoutMs))
      else answer.reject(error)
    },
  ).finally(() => {
    clearTimeout(deadline)
    clearTimeout(graceTimer)
  })
  return { answer: answered, settled: settled.catch(() => {}) }
}

// Thrown inside the transaction of a request already answered, so that it rolls back.
const abandoned = new Error('the webhook was answered 503 before it was stored; rolling back')

const statementTimeout = '57014'

const tooSlow = (timeoutMs: number) =>
  new HttpError(503, 'database_unavailable', `The database did not store the webhook within ${timeoutMs} ms; nothing was stored, retry shortly`, undefined, { 'retry-after': '2' })

const overloaded = (maxPending: number) =>
  new HttpError(503, 'overloaded', `${maxPending} webhooks are already waiting for the database; nothing was stored, retry shortly`, undefined, { 'retry-after': '2' })

// The connection went away after COMMIT was sent: PostgreSQL may have committed it or not.
const outcomeUnknown = () =>
  new HttpError(503, 'outcome_unknown', 'The database went away while committing the webhook, which may or may not be stored; retry with the same Idempotency-Key to be safe', undefined, { 'retry-after': '2' })
