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
 *
 * With `lease`, a key that is busy takes points ahead from the counter, as many as it used in about
 * `leaseMs` (at most 1% of the limit, and `maxLeasePoints`), and hands them out without a statement
 * until they are gone or the window ends. Every point is still counted in PostgreSQL first, so the limit
 * is never exceeded; a replica that stops receiving a key's requests leaves its unused points counted,
 * so across replicas a window may admit up to 1% fewer. Limits under 100 requests are never leased.
 */
export function createRateLimiter(sql: Sql, name: string, limit: RateLimit, options: { sweep?: boolean; gatherMs?: number; lease?: boolean } = {}): RateLimiter {
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
  const maxLease = options.lease ? Math.min(maxLeasePoints, Math.floor(limit.requests / 100)) : 0
  const leases = new Map<string, Lease>()
  let gathering = new Map<string, Waiting[]>()
  let flushTimer: ReturnType<typeof setTimeout> | undefined

  function flush() {
    flushTimer = undefined
    const folds = gathering
    gathering = new Map()
    for (const [key, waiting] of folds) consumeFolded(key, waiting)
  }

  /** Takes one point of `key`'s lease, if it holds one in its window; `demand` counts the request towards the key's rate. */
  function takeLeased(key: string, demand = true) {
    const lease = leases.get(key)
    if (!lease) return false
    if (demand) lease.used++
    if (lease.points === 0 || lease.until <= Date.now()) return false
    lease.points--
    return true
  }

  /** Points to take ahead for `key` besides the `needed` ones: what it used in about `leaseMs`, by its rate since the last count. */
  function leaseFor(key: string, needed: number) {
    const now = Date.now()
    const lease = leases.get(key)
    const ahead = lease ? Math.round((lease.used / Math.max(1, now - lease.countedAt)) * leaseMs) - needed : 0
    if (!lease) {
      if (leases.size >= maxLeasedKeys) leases.delete(leases.keys().next().value!)
      leases.set(key, { points: 0, until: 0, used: needed, countedAt: now })
    } else Object.assign(lease, { used: 0, countedAt: now })
    return Math.max(0, Math.min(maxLease, ahead))
  }

  async function consumeFolded(key: string, waiting: Waiting[]) {
    // A count that just came back may have left points for those gathered meanwhile (counted as demand when they came).
    const rest = maxLease > 0 ? waiting.filter((caller) => !(takeLeased(key, false) && (caller.resolve(allowed), true))) : waiting
    if (rest.length === 0) return
    const ahead = maxLease > 0 ? leaseFor(key, rest.length) : 0
    const asked = rest.length + ahead
    let granted = asked
    let retryAfterSeconds = 0
    try {
      const counted = await limiter.consume(key, asked)
      keepLease(key, ahead, counted.msBeforeNext)
    } catch (error) {
      if (!(error instanceof RateLimiterRes)) return rest.forEach((caller) => caller.reject(error))
      // The counter now holds these points too: those that came before them used `consumedPoints - asked`.
      const countedBefore = error.consumedPoints - asked
      granted = Math.min(asked, Math.max(0, limit.requests - countedBefore))
      retryAfterSeconds = Math.max(1, Math.ceil(error.msBeforeNext / 1000))
      keepLease(key, granted - rest.length, error.msBeforeNext)
    }
    rest.forEach((caller, index) => caller.resolve(index < granted ? allowed : { kind: 'limited', retryAfterSeconds }))
  }

  // Points still held from an earlier count keep their own (earlier or equal) end of window.
  function keepLease(key: string, points: number, msBeforeNext: number) {
    const lease = leases.get(key)
    if (!lease || points <= 0) return
    const now = Date.now()
    const held = lease.until > now ? lease.points : 0
    lease.points = held + points
    lease.until = held > 0 ? Math.min(lease.until, now + msBeforeNext) : now + msBeforeNext
  }

  return {
    consume(key) {
      if (maxLease > 0 && takeLeased(key)) return Promise.resolve(allowed)
      return new Promise((resolve, reject) => {
        const waiting = gathering.get(key)
        if (waiting) waiting.push({ resolve, reject })
        else gathering.set(key, [{ resolve, reject }])
        flushTimer ??= setTimeout(flush, options.gatherMs ?? 0)
      })
    },
    async reset(key) {
      leases.delete(key)
      await limiter.delete(key)
    },
  }
}

export type Slowdown = { consume: (key: string) => Promise<RateOutcome>; reset: (key: string) => Promise<void> }

/**
 * Lets `limit.requests` attempts per key through freely within `limit.perSeconds`; after them one
 * attempt at a time, each after a wait that doubles from 1 s up to the window's length. The attempts
 * are counted in one limiter and the waits are a second limiter's windows, so a wait is claimed by one
 * statement and parallel attempts cannot slip through together.
 */
export function createSlowdown(sql: Sql, name: string, limit: RateLimit): Slowdown {
  const store = { storeClient: postgresJsClient(sql), storeType: 'pool', tableName: 'rate_limits', tableCreated: true }
  const attempts = new RateLimiterPostgres({ ...store, keyPrefix: `${name}-attempts`, points: Number.MAX_SAFE_INTEGER, duration: limit.perSeconds })
  const turns = new RateLimiterPostgres({ ...store, keyPrefix: `${name}-turns`, points: 1, duration: 1 })
  return {
    async consume(key) {
      const counted = await attempts.consume(key)
      const beyond = counted.consumedPoints - limit.requests
      if (beyond <= 0) return allowed
      const waitSeconds = Math.min(2 ** Math.min(beyond - 1, 30), limit.perSeconds)
      try {
        await turns.consume(key, 1, { customDuration: waitSeconds })
        return allowed
      } catch (error) {
        if (!(error instanceof RateLimiterRes)) throw error
        return { kind: 'limited', retryAfterSeconds: Math.max(1, Math.ceil(error.msBeforeNext / 1000)) }
      }
    },
    async reset(key) {
      await Promise.all([attempts.delete(key), turns.delete(key)])
    },
  }
}

// A busy key takes ahead about this long of its requests, at most this many points.
const leaseMs = 100
const maxLeasePoints = 1_000
// Keys with a lease a limiter remembers; past it the oldest is forgotten (its points stay counted).
const maxLeasedKeys = 10_000

const allowed: RateOutcome = { kind: 'allowed' }

type Lease = { points: number; until: number; used: number; countedAt: number }
type Waiting = { resolve: (outcome: RateOutcome) => void; reject: (error: unknown) => void }

// rate-limiter-flexible speaks node-postgres' `query({ text, values })`; postgres.js runs the same statements.
const postgresJsClient = (sql: Sql) => ({
  query: async ({ text, values }: { text: string; values?: unknown[] }) => {
    const rows = await sql.unsafe(text, (values ?? []) as never[], { prepare: true })
    return { rows, rowCount: rows.count }
  },
})
