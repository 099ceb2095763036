import type { Sql } from '@zap/sql/db'
import type { StepContext } from '@zap/sql/execution'
import { takeRateLimit, type ConcurrencySlot, type Deferral } from '@zap/sql/flow'
import type { StepMessage } from '@zap/lib/messages'
import type { Step } from '@zap/lib/steps'
import type { StepOutcome } from './steps/result.ts'

/** The run's place in its zap's concurrency queue, or null when the zap has no limit. */
export function concurrencySlotOf(context: StepContext, message: StepMessage): ConcurrencySlot | null {
  if (!context.concurrency || context.concurrencyKey === null) return null
  return { runId: message.runId, zapId: context.zapId, key: context.concurrencyKey, limit: context.concurrency.limit }
}

/**
 * Whether an http step must wait before it calls its target: the target paused this user with a
 * 429 or 503, or the step's rate limit has no room now (then a later time is reserved for it).
 */
export async function holdForTarget(sql: Sql, step: Step, context: StepContext): Promise<Deferral | null> {
  if (step.type !== 'http') return null
  const host = hostOf(step.config.url)
  if (host === null) return null
  const base = { zapId: context.zapId, concurrencyKey: context.concurrencyKey }
  const pause = context.pauses?.find((paused) => paused.host === host)
  if (pause) return { ...base, kind: 'paused', reason: `${host} ${pause.reason}; its requests wait until ${pause.until}`, until: new Date(pause.until) }
  const limit = step.config.rateLimit
  if (!limit) return null
  const name = limit.group ? `group:${limit.group}` : `host:${host}`
  const hasTurn = context.wait?.kind === 'rate_limit'
  if (hasTurn && !context.wait!.due) return { ...base, kind: 'rate_limit', reason: context.wait!.reason, until: new Date(context.wait!.until) }
  const retryAt = await takeRateLimit(sql, { userId: context.userId, name, requests: limit.requests, perSeconds: limit.perSeconds }, hasTurn)
  if (retryAt === null) return null
  const reason = `Rate limit ${limit.requests} per ${limit.perSeconds} s for ${limit.group ? `group ${limit.group}` : host}: next turn at ${retryAt.toISOString()}`
  return { ...base, kind: 'rate_limit', reason, until: retryAt }
}

/** A 429, or a 503 with Retry-After, pauses the host for every step of the user until the retry time. */
export function pauseOf(step: Step, outcome: StepOutcome, retryDelayMs: number) {
  if (step.type !== 'http' || outcome.kind !== 'failed') return null
  const status = (outcome.output as { status?: number } | undefined)?.status
  if (status !== 429 && !(status === 503 && outcome.retryAfterMs !== undefined)) return null
  const host = hostOf(step.config.url)
  if (host === null) return null
  return { host, until: new Date(Date.now() + retryDelayMs), reason: `answered ${status}` }
}

function hostOf(url: unknown) {
  try {
    return new URL(String(url)).host
  } catch {
    return null
  }
}
