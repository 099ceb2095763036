import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api as defaultApi, apiWith, call, signUp, sql } from '@zap/testkit/http'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'

// Seconds-level schedules need the minimum interval lowered, as an operator may.
const api = apiWith({ scheduleLimits: { minIntervalSeconds: 1 } })
const log = { type: 'log', config: { message: 'tick {{trigger.body.scheduledAt}}' } }
const topic = `zap-schedules-${crypto.randomUUID().slice(0, 8)}`
const processorEnv = { KAFKA_TOPIC: topic, SCHEDULE_POLL_MS: '200', SCHEDULE_MISSED_AFTER_SECONDS: '1', OUTBOX_POLL_MS: '200' }
let processors: RunningService[] = []
let token: string
const zapIds: string[] = []

beforeAll(async () => {
  token = (await signUp()).token
  processors = await Promise.all([startService('processor', processorEnv), startService('processor', processorEnv)])
}, 60_000)

afterAll(async () => {
  // Deleted zaps stop ticking, so no later test's processor starts their runs.
  for (const id of zapIds) await call(api, 'DELETE', `/api/v1/zaps/${id}`, { token })
  await Promise.all(processors.map((processor) => processor.stop()))
}, 30_000)

async function createScheduledZap(schedule: Record<string, unknown>, extra: Record<string, unknown> = {}) {
  const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'scheduled', steps: [log], schedule, ...extra } })
  expect(response.status).toBe(201)
  zapIds.push(response.body.zap.id)
  return response.body.zap as { id: string; schedule: unknown; nextRuns: string[] }
}

const ticksOf = async (zapId: string) =>
  (await sql<{ tick: string }[]>`select trigger_body ->> 'scheduledAt' as tick from runs where zap_id = ${zapId} order by 1`).map((row) => Date.parse(row.tick))

const untilNextTick = (everyMs: number, offsetMs = 0) => everyMs - (Date.now() % everyMs) + offsetMs

describe('schedules', () => {
  test('a schedule every second run by two processors makes exactly one run per tick, with the tick in its trigger', async () => {
    const zap = await createScheduledZap({ cron: '* * * * * *' })
    expect(zap.schedule).toEqual({ cron: '* * * * * *', timezone: 'UTC', catchUp: 'none' })
    expect(zap.nextRuns).toHaveLength(3)
    await waitUntil(async () => (await ticksOf(zap.id)).length >= 6, 'six ticks', 15_000)
    await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { schedule: null } })
    await Bun.sleep(1_000)
    const ticks = await ticksOf(zap.id)
    expect(ticks.length).toBeGreaterThanOrEqual(6)
    // Consecutive ticks one second apart: none twice, none skipped.
    expect(ticks.slice(1).map((tick, index) => tick - ticks[index]!)).toEqual(Array(ticks.length - 1).fill(1_000))

    const [run] = await sql<{ id: string }[]>`select id from runs where zap_id = ${zap.id} limit 1`
    const shown = (await call(api, 'GET', `/api/v1/runs/${run!.id}`, { token })).body.run
    expect(shown.replayCause).toBe('schedule')
    expect(shown.trigger).toMatchObject({ contentType: null, headers: {}, query: {} })
    expect(Object.keys(shown.trigger.body).sort()).toEqual(['firedAt', 'scheduledAt'])
    expect(Date.parse(shown.trigger.body.firedAt)).toBeGreaterThanOrEqual(Date.parse(shown.trigger.body.scheduledAt))
  }, 30_000)

  test('ticks missed while no processor ran are skipped with catchUp none, and one run makes up for them with latest', async () => {
    const everyMs = 10_000
    const none = await createScheduledZap({ cron: '*/10 * * * * *' })
    const latest = await createScheduledZap({ cron: '*/10 * * * * *', catchUp: 'latest' })
    await waitUntil(async () => (await ticksOf(none.id)).length >= 1 && (await ticksOf(latest.id)).length >= 1, 'a first tick each', 15_000)
    await Bun.sleep(untilNextTick(everyMs, 1_000))
    await Promise.all(processors.map((processor) => processor.stop()))
    const stoppedAt = Date.now()
    // Two ticks pass with nothing to run them; the processors come back two seconds after the second.
    await Bun.sleep(untilNextTick(everyMs) + everyMs + 2_000)
    const missed = [1, 2].map((n) => Math.floor(stoppedAt / everyMs) * everyMs + n * everyMs)
    processors = await Promise.all([startService('processor', processorEnv), startService('processor', processorEnv)])
    await waitUntil(async () => (await ticksOf(latest.id)).some((tick) => tick >= missed[1]!), 'the catch-up run', 10_000)
    const duringStop = (ticks: number[]) => ticks.filter((tick) => tick > stoppedAt && tick <= missed[1]!)
    expect(duringStop(await ticksOf(none.id))).toEqual([])
    expect(duringStop(await ticksOf(latest.id))).toEqual([missed[1]!])
    // Then both go on at the next tick.
    await waitUntil(async () => (await ticksOf(none.id)).includes(missed[1]! + everyMs), 'the next tick of catchUp none', 15_000)
  }, 75_000)

  test('a disabled zap makes no runs and no catch-up; enabled again it goes on from the next tick', async () => {
    const zap = await createScheduledZap({ cron: '* * * * * *', catchUp: 'latest' })
    await waitUntil(async () => (await ticksOf(zap.id)).length >= 2, 'two ticks', 10_000)
    const disabled = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { enabled: false } })
    expect(disabled.body.zap.nextRuns).toEqual([])
    await Bun.sleep(500)
    const whileDisabled = await ticksOf(zap.id)
    await Bun.sleep(3_000)
    expect(await ticksOf(zap.id)).toEqual(whileDisabled)
    const enabledAt = Date.now()
    await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { enabled: true } })
    await waitUntil(async () => (await ticksOf(zap.id)).length > whileDisabled.length, 'a tick after enabling', 10_000)
    const resumed = (await ticksOf(zap.id)).slice(whileDisabled.length)
    expect(resumed.every((tick) => tick > enabledAt - 1_000)).toBe(true)
  }, 30_000)

  test('a bad expression, zone or a schedule too frequent for the server is 400 naming the field, and nothing is stored', async () => {
    const cases: [unknown, string][] = [
      [{ cron: '0 9 * *' }, 'schedule.cron'],
      [{ cron: '0 9 * * *', timezone: 'Mars/Olympus' }, 'schedule.timezone'],
      [{ cron: '0 9 * * *', catchUp: 'all' }, 'schedule.catchUp'],
    ]
    for (const [schedule, path] of cases) {
      const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'bad', steps: [log], schedule } })
      expect(response.status).toBe(400)
      expect(response.body.error.details[0].path).toBe(path)
    }
    const tooOften = await call(defaultApi, 'POST', '/api/v1/zaps', { token, body: { name: 'bad', steps: [log], schedule: { cron: '*/10 * * * * *' } } })
    expect(tooOften.status).toBe(400)
    expect(tooOften.body.error.message).toContain('SCHEDULE_MIN_INTERVAL_SECONDS')
    const [stored] = await sql<{ count: number }[]>`select count(*)::int as count from zaps z join users u on u.id = z.user_id where z.name = 'bad'`
    expect(stored!.count).toBe(0)
  })

  test('a zap shows its next three ticks in its time zone, and a null schedule removes it', async () => {
    const zap = await createScheduledZap({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' })
    const berlinTime = (iso: string) => new Intl.DateTimeFormat('en-GB', { timeZone: 'Europe/Berlin', weekday: 'short', hour: '2-digit', minute: '2-digit', hourCycle: 'h23' }).format(new Date(iso))
    expect(zap.nextRuns.map(berlinTime).every((time) => /^(Mon|Tue|Wed|Thu|Fri) 09:00$/.test(time))).toBe(true)
    const removed = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { schedule: null } })
    expect(removed.body.zap).toMatchObject({ schedule: null, nextRuns: [] })
    const [row] = await sql<{ nextAt: Date | null }[]>`select schedule_next_at as "nextAt" from zaps where id = ${zap.id}`
    expect(row!.nextAt).toBeNull()
  })
})
