import { describe, expect, test } from 'bun:test'
import * as v from 'valibot'
import { latestTick, nextTicks, schedule, shortestInterval } from './schedule.ts'

const berlinWallClock = (date: Date) =>
  new Intl.DateTimeFormat('sv-SE', { timeZone: 'Europe/Berlin', dateStyle: 'short', timeStyle: 'short' }).format(date)

describe('schedules', () => {
  test('ticks follow Berlin’s wall clock across the spring change: the skipped 02:30 fires once, after the gap', () => {
    const ticks = nextTicks({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, new Date('2026-03-27T12:00:00Z'), 4)
    expect(ticks.map(berlinWallClock)).toEqual(['2026-03-28 02:30', '2026-03-29 03:30', '2026-03-30 02:30', '2026-03-31 02:30'])
  })

  test('the repeated autumn hour fires once', () => {
    const ticks = nextTicks({ cron: '30 2 * * *', timezone: 'Europe/Berlin' }, new Date('2026-10-24T12:00:00Z'), 3)
    expect(ticks.map(berlinWallClock)).toEqual(['2026-10-25 02:30', '2026-10-26 02:30', '2026-10-27 02:30'])
    const hourly = nextTicks({ cron: '0 * * * *', timezone: 'Europe/Berlin' }, new Date('2026-10-24T23:30:00Z'), 4)
    // 02:00 comes twice that night (00:00 and 01:00 UTC): an hourly schedule fires for it once.
    expect(hourly.map(berlinWallClock)).toEqual(['2026-10-25 02:00', '2026-10-25 03:00', '2026-10-25 04:00', '2026-10-25 05:00'])
  })

  test('weekday mornings in Berlin are 08:00 UTC in winter and 07:00 UTC in summer', () => {
    const winter = nextTicks({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' }, new Date('2026-12-04T12:00:00Z'), 2)
    expect(winter.map((tick) => tick.toISOString())).toEqual(['2026-12-07T08:00:00.000Z', '2026-12-08T08:00:00.000Z'])
    const summer = nextTicks({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin' }, new Date('2026-07-03T12:00:00Z'), 1)
    expect(summer.map((tick) => tick.toISOString())).toEqual(['2026-07-06T07:00:00.000Z'])
  })

  test('the latest tick is found however long ago it was', () => {
    const now = new Date('2026-12-08T10:17:31Z')
    expect(latestTick({ cron: '*/5 * * * * *', timezone: 'UTC' }, now)?.toISOString()).toBe('2026-12-08T10:17:30.000Z')
    expect(latestTick({ cron: '0 9 * * 1-5', timezone: 'UTC' }, now)?.toISOString()).toBe('2026-12-08T09:00:00.000Z')
    expect(latestTick({ cron: '0 0 1 1 *', timezone: 'UTC' }, now)?.toISOString()).toBe('2026-01-01T00:00:00.000Z')
  })

  test('the shortest interval is the densest stretch of ticks', () => {
    expect(shortestInterval({ cron: '0 9 * * 1-5', timezone: 'UTC' })).toBe(86_400)
    expect(shortestInterval({ cron: '*/10 * * * * *', timezone: 'UTC' })).toBe(10)
    expect(shortestInterval({ cron: '0,1 9 * * *', timezone: 'UTC' })).toBe(60)
  })

  test('a bad expression, zone or catch-up is refused naming the field', () => {
    const problem = (input: unknown) => {
      const result = v.safeParse(schedule, input)
      return result.success ? null : `${v.getDotPath(result.issues[0])}: ${result.issues[0].message}`
    }
    expect(problem({ cron: '0 9 * *' })).toStartWith('cron: Expected a cron expression')
    expect(problem({ cron: '61 * * * *' })).toStartWith('cron: Expected a cron expression')
    expect(problem({ cron: '0 9 * * *', timezone: 'Mars/Olympus' })).toStartWith('timezone: Expected an IANA time zone')
    expect(problem({ cron: '0 9 * * *', catchUp: 'all' })).toStartWith('catchUp: Expected none')
    expect(v.parse(schedule, { cron: '0 9 * * 1-5' })).toEqual({ cron: '0 9 * * 1-5', timezone: 'UTC', catchUp: 'none' })
  })
})
