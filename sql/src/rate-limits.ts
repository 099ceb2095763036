import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'
import type { Sql } from 'postgres'

export type RateLimit = { requests: number; perSeconds: number }
export type RateOutcome = { kind: 'allowed' } | { kind: 'limited'; retryAfterSeconds: number }
export type RateLimiter = { consume: (key: string) => Promise<RateOutcome>; reset: (key: string) => Promise<void> }

/**
 * A fixed-window counter per key kept in PostgreSQL's `rate_limits` table by rate-limiter-flexible,
 * so a limit holds across every replica. Consumes of one key within `gatherMs` of the first are
 * counted by one statement, the earliest allowed while they fit. `sweep` makes this limiter delete
 * expired rows now and then (of every limiter: one per process is enough).
 */
export function createRateLimiter(sql: Sql, name: string, limit: RateLimit, options: { sweep?: boolean; gatherMs?: number } = {}): RateLimiter {
  const limiter = new RateLimiterPostgres({
    storeClient: postgresJsClient(sql),
    storeType: 'pool',
    tableName: 'rate_limits',
    tableCreated: true,
    clearExpiredByTimeout: options.sweep ?? false,
    keyPrefix: name,
    points: limit.requests,
    duration: limit.perSeconds,
  })
  let gathering = new Map<string, Waiting[]>()
  let flushTimer: ReturnType<typeof setTimeout> | undefined

  function flush() {
    flushTimer = undefined
    const folds = gathering
    gathering = new Map()
    for (const [key, waiting] of folds) consumeFolded(key, waiting)
  }

  async function consumeFolded(key: string, waiting: Waiting[]) {
    let allowed = waiting.length
    let retryAfterSeconds = 0
    try {
      await limiter.consume(key, waiting.length)
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) return waiting.forEach((caller) => caller.reject(error))
      // The counter now holds these points too: those that came before them used `consumedPoints - n`.
      const countedBefore = error.consumedPoints - waiting.length
      allowed = Math.min(waiting.length, Math.max(0, limit.requests - countedBefore))
      retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000))
    }
    waiting.forEach((caller, index) => caller.resolve(index < allowed ? { kind: 'allowed' } : { kind: 'limited', retryAfterSeconds }))
  }

  return {
    consume(key) {
      return new Promise((resolve, reject) => {
        const waiting = gathering.get(key)
        if (waiting) waiting.push({ resolve, reject })
        else gathering.set(key, [{ resolve, reject }])
        flushTimer ??= setTimeout(flush, options.gatherMs ?? 0)
      })
    },
    async reset(key) {
      await limiter.delete(key)
    },
  }
}

type Waiting = { resolve: (outcome: RateOutcome) => void; reject: (error: unknown) => void }

// rate-limiter-flexible speaks node-postgres' `query({ text, values })`; postgres.js runs the same statements.
const postgresJsClient = (sql: Sql) => ({
  query: async ({ text, values }: { text: string; values?: unknown[] }) => {
    const rows = await sql.unsafe(text, (values ?? []) as never[], { prepare: true })
    return { rows, rowCount: rows.count }
  },
})
