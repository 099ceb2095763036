import * as v from 'valibot'
import { Cron } from 'croner'

/**
 * A zap's schedule: a cron expression (five fields, or six with seconds first) read on the wall clock
 * of `timezone`, and what to do with ticks that nothing could run in time (`catchUp`).
 */
export const schedule = v.strictObject({
  cron: v.pipe(
    v.string(),
    v.maxLength(200),
    v.check((cron) => cronProblem(cron) === null, 'Expected a cron expression: five fields (minute hour day month weekday), or six with seconds first, such as 0 9 * * 1-5'),
  ),
  timezone: v.optional(v.pipe(v.string(), v.maxLength(100), v.check(isTimeZone, 'Expected an IANA time zone such as Europe/Berlin or UTC')), 'UTC'),
  catchUp: v.optional(v.picklist(['none', 'latest'], 'Expected none (skip missed ticks) or latest (one run for the latest missed tick)'), 'none'),
})
export type Schedule = v.InferOutput<typeof schedule>

/** The first `count` ticks strictly after `after`. */
export function nextTicks({ cron, timezone }: Pick<Schedule, 'cron' | 'timezone'>, after: Date, count: number): Date[] {
  return patternOf(cron, timezone).nextRuns(count, after)
}

/** The latest tick at or before `now` (within about two years), or null. */
export function latestTick({ cron, timezone }: Pick<Schedule, 'cron' | 'timezone'>, now: Date): Date | null {
  const pattern = patternOf(cron, timezone)
  // Ticks are found forwards only: look back over a window that doubles until it holds one.
  for (let backMs = 1_000; backMs <= maxLookBackMs; backMs *= 2) {
    let latest: Date | null = null
    for (let tick = pattern.nextRun(new Date(now.getTime() - backMs)); tick && tick <= now; tick = pattern.nextRun(tick)) latest = tick
    if (latest) return latest
  }
  return null
}

const maxLookBackMs = 2 ** 36

/** The shortest gap in seconds between consecutive ticks among the next ones: what `SCHEDULE_MIN_INTERVAL_SECONDS` is checked against. */
export function shortestInterval(schedule: Pick<Schedule, 'cron' | 'timezone'>, from = new Date()): number {
  const ticks = nextTicks(schedule, from, ticksChecked)
  let shortest = Number.POSITIVE_INFINITY
  for (let index = 1; index < ticks.length; index++) shortest = Math.min(shortest, (ticks[index]!.getTime() - ticks[index - 1]!.getTime()) / 1000)
  return shortest
}

// Enough to see a pattern's densest stretch: its ticks within a day, or a day's repeats within a week.
const ticksChecked = 100

// Parsing a pattern costs a quarter of a millisecond: the schedules in use are kept parsed.
const patterns = new Map<string, Cron>()
const maxPatterns = 1_000

function patternOf(cron: string, timezone: string) {
  const key = `${timezone} ${cron}`
  let pattern = patterns.get(key)
  if (!pattern) {
    if (patterns.size >= maxPatterns) patterns.delete(patterns.keys().next().value!)
    pattern = new Cron(cron, { timezone, paused: true })
    patterns.set(key, pattern)
  }
  return pattern
}

function cronProblem(cron: string) {
  try {
    new Cron(cron, { paused: true })
    return null
  } catch (error) {
    return (error as Error).message
  }
}

function isTimeZone(name: string) {
  try {
    new Intl.DateTimeFormat('en', { timeZone: name })
    return true
  } catch {
    return false
  }
}
