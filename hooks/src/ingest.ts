import { isPostgresError, type Sql, type TransactionSql } from '@zap/sql/db'
import { acceptRuns, type AcceptInput, type BatchAcceptance } from '@zap/sql/runs'
import { HttpError } from '@zap/lib/errors'
import { isDatabaseDown } from '@zap/lib/database'

export type IngestLimits = { timeoutMs: number; maxPending: number; batchMs: number; maxBatch: number }

/**
 * Puts the database part of a webhook under one deadline of `timeoutMs` (the time spent reading the
 * body does not count): past it the request is answered 503, and its transaction, wherever it is,
 * rolls back instead of committing, because COMMIT is only sent before the deadline (a 503 is never
 * stored later). At most `maxPending` webhooks wait for their transaction at once; more are answered
 * 503 at once, so an outage cannot pile requests up.
 */
export function ingestion(sql: Sql, { timeoutMs, maxPending, batchMs, maxBatch }: IngestLimits) {
  let pending = 0
  let gathering: Gathered[] = []
  let flushTimer: ReturnType<typeof setTimeout> | undefined

  /** Starts the deadline of one webhook, for what it asks the database before `store`. */
  function deadline() {
    let spentMs = 0
    const counted = async <T>(work: Promise<T>): Promise<T> => {
      const startedAt = performance.now()
      try {
        return await work
      } finally {
        spentMs += performance.now() - startedAt
      }
    }
    return {
      async before<T>(work: Promise<T>): Promise<T> {
        let timer: ReturnType<typeof setTimeout> | undefined
        try {
          return await counted(Promise.race([work, new Promise<never>((_, reject) => (timer = setTimeout(() => reject(tooSlow(timeoutMs)), timeoutMs - spentMs)))]))
        } finally {
          clearTimeout(timer)
        }
      },
      /** Counts `work` against the deadline without racing it (it keeps its own). */
      counted,
      remainingMs: () => Math.max(0, timeoutMs - spentMs),
    }
  }

  /**
   * Group commit: stores the webhook together with the others that arrive within `batchMs` (at most
   * `maxBatch`), in one statement and one transaction that commits within the shortest deadline
   * among them, so each answer still comes after its commit. A batch PostgreSQL refuses (a row's
   * data) leaves each webhook to `store` alone; a database outage fails them all.
   */
  function storeGathered(webhook: Deadline, input: AcceptInput): Promise<BatchAcceptance> {
    if (pending >= maxPending) throw overloaded(maxPending)
    pending++
    const gathered = new Promise<BatchAcceptance>((resolve, reject) => {
      gathering.push({ input, remainingMs: webhook.remainingMs(), gatheredAt: performance.now(), resolve, reject })
    })
    if (gathering.length >= maxBatch) flush()
    else flushTimer ??= setTimeout(flush, batchMs)
    return webhook.counted(gathered)
  }

  function flush() {
    clearTimeout(flushTimer)
    flushTimer = undefined
    const batch = gathering
    gathering = []
    const now = performance.now()
    const remainingMs = Math.min(...batch.map((webhook) => webhook.remainingMs - (now - webhook.gatheredAt)))
    const transaction = withinDeadline(sql, remainingMs, timeoutMs, (tx) => acceptRuns(tx, batch.map((webhook) => webhook.input)))
    transaction.settled.finally(() => (pending -= batch.length))
    transaction.answer.then(
      (outcomes) => batch.forEach((webhook, index) => webhook.resolve(outcomes[index]!)),
      (error) => {
        if (isPostgresError(error) && !isDatabaseDown(error)) for (const webhook of batch) webhook.resolve({ outcome: 'needs_transaction' })
        else for (const webhook of batch) webhook.reject(error)
      },
    )
  }

  /** Runs `store` in a transaction that commits only within what is left of the deadline. */
  async function store<T>(webhook: Deadline, work: (tx: TransactionSql) => Promise<T>): Promise<T> {
    if (pending >= maxPending) throw overloaded(maxPending)
    pending++
    const transaction = withinDeadline(sql, webhook.remainingMs(), timeoutMs, work)
    transaction.settled.finally(() => pending--)
    return transaction.answer
  }

  return { deadline, storeGathered, store }
}

type Deadline = { remainingMs: () => number; counted: <T>(work: Promise<T>) => Promise<T> }

type Gathered = {
  input: AcceptInput
  remainingMs: number
  gatheredAt: number
  resolve: (outcome: BatchAcceptance) => void
  reject: (error: unknown) => void
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
