import type { Sql } from '@zap/sql/db'
import { nextTicks } from '@zap/lib/schedule'
import type { RunningService } from '@zap/testkit/services'
import { percentile } from './stats.ts'

export type TickLateness = { schedules: number; ticks: number; runs: number; p50: number; p99: number; max: number }

/** How late ticks start their runs with one schedule, then with `count`, claimed by the processors already running. */
export type ScheduleLateness = { alone: TickLateness; many: TickLateness; processors: number; claimMeanMs: number; claimCalls: number }

const cron = '* * * * *'
const ticksMeasured = 2

/**
 * Puts `count` zaps on one every-minute schedule (copies of `zapId`, made in SQL) and measures, over
 * the next ticks, how long after its tick each run was stored: first the one zap alone as the
 * baseline, then all of them, with `extraProcessor` sharing the claims. The schedules are removed after.
 */
export async function measureScheduleLateness(sql: Sql, zapId: string, count: number, startProcessor: () => Promise<RunningService>, log: (line: string) => void): Promise<ScheduleLateness> {
  await scheduleEveryMinute(sql, [zapId])
  log(`schedules: one zap every minute, ${ticksMeasured} ticks`)
  const alone = await latenessOverTicks(sql, [zapId], 1)
  const copies = await copyZap(sql, zapId, count - 1)
  const extra = await startProcessor()
  try {
    await scheduleEveryMinute(sql, [zapId, ...copies])
    await sql`select pg_stat_statements_reset()`
    log(`schedules: ${count.toLocaleString('en-US')} zaps every minute, two processors, ${ticksMeasured} ticks`)
    const many = await latenessOverTicks(sql, [zapId, ...copies], count)
    const [claim] = await sql<{ calls: number; meanMs: number }[]>`
      select calls::int, mean_exec_time as "meanMs" from pg_stat_statements
      where query like '%schedule_next_at <= now()%' and query like '%skip locked%' order by calls desc limit 1`
    return { alone, many, processors: 2, claimMeanMs: claim?.meanMs ?? NaN, claimCalls: claim?.calls ?? 0 }
  } finally {
    await sql`update zaps set schedule = null, schedule_next_at = null where schedule is not null`
    await extra.stop()
  }
}

async function scheduleEveryMinute(sql: Sql, zapIds: string[]) {
  const [next] = nextTicks({ cron, timezone: 'UTC' }, new Date(), 1)
  await sql`
    update zaps set schedule = ${sql.json({ cron, timezone: 'UTC', catchUp: 'none' })}, schedule_next_at = ${next!}
    where id = any(${zapIds}::uuid[])`
}

// Made in SQL, as a deployment's zaps accumulate: 10,000 creates through the API would only measure the API.
async function copyZap(sql: Sql, zapId: string, copies: number) {
  const rows = await sql<{ id: string }[]>`
    with copies as (
      insert into zaps
      select (jsonb_populate_record(null::zaps, to_jsonb(z) || jsonb_build_object('id', gen_random_uuid(), 'name', z.name || ' ' || n))).*
      from zaps z, generate_series(1, ${copies}) n
      where z.id = ${zapId}
      returning id
    ), versions as (
      insert into zap_versions (zap_id, version, steps)
      select c.id, v.version, v.steps from copies c, zap_versions v where v.zap_id = ${zapId}
    )
    select id from copies`
  return rows.map((row) => row.id)
}

async function latenessOverTicks(sql: Sql, zapIds: string[], schedules: number): Promise<TickLateness> {
  const [first] = nextTicks({ cron, timezone: 'UTC' }, new Date(), 1)
  const last = new Date(first!.getTime() + (ticksMeasured - 1) * 60_000)
  const expected = schedules * ticksMeasured
  const deadline = last.getTime() + 60_000
  let rows: { lateMs: number }[] = []
  while (Date.now() < deadline) {
    await Bun.sleep(Math.max(1_000, first!.getTime() - Date.now()))
    rows = await sql<{ lateMs: number }[]>`
      select extract(epoch from r.created_at - (r.trigger_body ->> 'scheduledAt')::timestamptz)::float8 * 1000 as "lateMs"
      from runs r
      where r.zap_id = any(${zapIds}::uuid[]) and r.replay_cause = 'schedule'
        and (r.trigger_body ->> 'scheduledAt')::timestamptz between ${first!} and ${last}`
    if (rows.length >= expected) break
  }
  const late = rows.map((row) => row.lateMs).sort((a, b) => a - b)
  return { schedules, ticks: ticksMeasured, runs: late.length, p50: percentile(late, 50), p99: percentile(late, 99), max: late.at(-1) ?? NaN }
}
