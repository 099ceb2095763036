import type { Sql } from '@zap/sql/db'
import { createRateLimiter, type RateLimit, type RateLimiter } from '@zap/sql/rate-limits'
import { findWebhookRateLimit } from '@zap/sql/zaps'
import { tooManyRequests } from '@zap/lib/errors'

// A zap's own limit is looked up again after this long, so a change applies within it.
const zapLimitTtlMs = 10_000
const maxCachedZaps = 10_000
const maxLimiters = 1_000
// A zap's webhooks arriving within this long of each other are counted by one statement. A constant
// rather than INGEST_BATCH_MS: raising that window for bigger run batches should not also hold
// every webhook that long before its count, and the count needs no more to gather a burst.
const gatherMs = 1

/**
 * Counts each zap's webhooks against its own limit or the server default, and every zap's of a user
 * against the user's ceiling (which a zap's own limit cannot lift), in PostgreSQL so the limits hold
 * across hooks replicas; over either is 429 with Retry-After. Unknown zaps are not counted (they are 404).
 */
export function webhookLimits(sql: Sql, defaultLimit: RateLimit, userLimit: RateLimit) {
  const defaultLimiter = createRateLimiter(sql, 'webhook', defaultLimit, { sweep: true, gatherMs, lease: true })
  const userLimiter = createRateLimiter(sql, 'webhook-user', userLimit, { gatherMs, lease: true })
  const limiters = new Map<string, RateLimiter>()
  const zapLimits = new Map<string, { zap: Promise<{ limit: RateLimit | null; userId: string } | null>; until: number }>()

  function limiterFor(limit: RateLimit) {
    const name = `webhook-${limit.requests}/${limit.perSeconds}`
    let limiter = limiters.get(name)
    if (!limiter) {
      if (limiters.size >= maxLimiters) limiters.clear()
      limiter = createRateLimiter(sql, name, limit, { gatherMs, lease: true })
      limiters.set(name, limiter)
    }
    return limiter
  }

  // One lookup per zap at a time: the webhooks arriving while it runs wait for it instead of each sending its own.
  function zapLimitOf(zapId: string) {
    const cached = zapLimits.get(zapId)
    if (cached && cached.until > Date.now()) return cached.zap
    const lookup = { zap: findWebhookRateLimit(sql, zapId), until: Date.now() + zapLimitTtlMs }
    zapLimits.delete(zapId)
    if (zapLimits.size >= maxCachedZaps) zapLimits.delete(zapLimits.keys().next().value!)
    zapLimits.set(zapId, lookup)
    lookup.zap.catch(() => zapLimits.get(zapId) === lookup && zapLimits.delete(zapId))
    return lookup.zap
  }

  return async function limitWebhook(zapId: string) {
    const zap = await zapLimitOf(zapId)
    if (!zap) return
    const outcomes = await Promise.all([(zap.limit ? limiterFor(zap.limit) : defaultLimiter).consume(zapId), userLimiter.consume(zap.userId)])
    const waits = outcomes.map((outcome) => (outcome.kind === 'limited' ? outcome.retryAfterSeconds : 0))
    if (Math.max(...waits) > 0) throw tooManyRequests(Math.max(...waits))
  }
}
