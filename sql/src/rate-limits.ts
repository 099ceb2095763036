import { RateLimiterPostgres, RateLimiterRes } from 'rate-limiter-flexible'
import type { Sql } from 'postgres'

export type RateLimit = { requests: number; perSeconds: number }
export type RateOutcome = { kind: 'allowed' } | { kind: 'limited'; retryAfterSeconds: number }
export type RateLimiter = { consume: (key: string) => Promise<RateOutcome>; reset: (key: string) => Promise<void> }

/**
 * A fixed-window counter per key kept in PostgreSQL's `rate_limits` table by rate-limiter-flexible,
 * so a limit holds across every replica. `sweep` makes this limiter delete expired rows now and then
 * (of every limiter: one per process is enough).
 */
export function createRateLimiter(sql: Sql, name: string, limit: RateLimit, options: { sweep?: boolean } = {}): RateLimiter {
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
  return {
    async consume(key) {
      try {
        await limiter.consume(key)
        return { kind: 'allowed' }
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error
        return { kind: 'limited', retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) }
      }
    },
    async reset(key) {
      await limiter.delete(key)
    },
  }
}

// rate-limiter-flexible speaks node-postgres' `query({ text, values })`; postgres.js runs the same statements.
const postgresJsClient = (sql: Sql) => ({
  query: async ({ text, values }: { text: string; values?: unknown[] }) => {
    const rows = await sql.unsafe(text, (values ?? []) as never[], { prepare: true })
    return { rows, rowCount: rows.count }
  },
})
