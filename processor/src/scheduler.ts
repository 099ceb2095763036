import type { Sql } from '@zap/sql/db'
import { acceptRun, acceptRuns, type AcceptInput } from '@zap/sql/runs'
import { advanceSchedules, claimDueSchedules, type DueSchedule } from '@zap/sql/schedules'
import { latestTick, nextTicks } from '@zap/lib/schedule'
import type { Logger } from '@zap/lib/log'
import { repeatUntilStopped } from '@zap/lib/repeat'
import { isDatabaseDown } from '@zap/lib/database'

export type SchedulerOptions = { sql: Sql; log: Logger; pollMs: number; batchSize: number; missedAfterMs: number; wakeRelays: () => void }

/**
 * Starts the runs of scheduled zaps. Every `pollMs` it claims the due schedules (SKIP LOCKED, so any
 * number of processors share them) and, in one transaction per batch, stores each tick's run with its
 * outbox row and the schedule's next tick. A tick's run has the idempotency key `schedule:<tick>`, so
 * it is stored once whatever happens around it. `problem()` says why the last pass failed, for readiness.
 */
export function startScheduler({ sql, log, pollMs, batchSize, missedAfterMs, wakeRelays }: SchedulerOptions) {
  let problem: string | null = null
  const loop = repeatUntilStopped(async (running) => {
    try {
      for (let claimed = batchSize; claimed === batchSize && running(); ) {
        const result = await sql.begin(async (tx) => {
          const due = await claimDueSchedules(tx, batchSize)
          const ticks = ticksAroundNow()
          const decisions = due.map((schedule) => decide(schedule, ticks(schedule), missedAfterMs))
          const inputs = decisions.flatMap(({ fire }) => (fire ? [fire] : []))
          const outcomes = inputs.length > 0 ? await acceptRuns(tx, inputs) : []
          // A zap that verifies its webhooks or debounces them is stored alone, as hooks does.
          for (const [ord, outcome] of outcomes.entries()) if (outcome.outcome === 'needs_transaction') await acceptRun(tx, inputs[ord]!)
          await advanceSchedules(tx, decisions.map(({ zapId, nextAt }) => ({ zapId, nextAt })))
          return { claimed: due.length, fired: outcomes.filter((outcome) => outcome.outcome !== 'disabled' && outcome.outcome !== 'unknown_zap').length, skipped: decisions.filter((decision) => decision.missed).length }
        })
        claimed = result.claimed
        if (result.fired > 0) wakeRelays()
        if (result.skipped > 0) log.info({ skipped: result.skipped }, `skipped the missed ticks of ${result.skipped} schedule(s) (catchUp none)`)
      }
      problem = null
    } catch (error) {
      problem = isDatabaseDown(error) ? 'the scheduler is waiting for the database' : `the scheduler failed: ${(error as Error)?.message}`
      // The relay logs a database outage; anything else is worth a line at every failure.
      if (!isDatabaseDown(error)) log.warn({ err: error }, 'starting scheduled runs failed; trying again shortly')
    }
  }, pollMs)
  return { problem: () => problem, stop: loop.stop }
}

type Decision = { zapId: string; fire: AcceptInput | null; nextAt: Date | null; missed: boolean }
type Ticks = { latest: Date | null; next: Date | null }

// A batch's schedules share the claim's now(): the ticks of each expression and zone (2-5 ms to find
// with a time zone) are found once per batch, however many zaps use them.
function ticksAroundNow() {
  const found = new Map<string, Ticks>()
  return ({ schedule, now }: DueSchedule) => {
    const key = `${schedule.timezone} ${schedule.cron}`
    let ticks = found.get(key)
    if (!ticks) {
      ticks = { latest: latestTick(schedule, now), next: nextTicks(schedule, now, 1)[0] ?? null }
      found.set(key, ticks)
    }
    return ticks
  }
}

// One run per claim at most: for the latest tick that has come. Ticks before it are folded into it;
// a latest tick later than `missedAfterMs` was missed (nothing ran it), and fires only with catchUp latest.
function decide({ zapId, schedule, nextAt, now }: DueSchedule, { latest, next }: Ticks, missedAfterMs: number): Decision {
  const tick = latest ?? nextAt
  const missed = now.getTime() - tick.getTime() > missedAfterMs
  if (missed && schedule.catchUp === 'none') return { zapId, fire: null, nextAt: next, missed }
  const trigger = { body: { scheduledAt: tick.toISOString(), firedAt: now.toISOString() }, contentType: null, headers: {}, query: {} }
  return { zapId, fire: { zapId, trigger, idempotencyKey: `schedule:${tick.toISOString()}`, verified: true, cause: 'schedule' }, nextAt: next, missed: false }
}
