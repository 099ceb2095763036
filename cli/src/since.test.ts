import { expect, test } from 'bun:test'
import { parseTime } from './since.ts'

const now = Date.parse('2026-01-31T12:00:00Z')

test('--since takes a duration back from now', () => {
  expect(parseTime('90s', now)).toBe('2026-01-31T11:58:30.000Z')
  expect(parseTime('1h', now)).toBe('2026-01-31T11:00:00.000Z')
  expect(parseTime('2d', now)).toBe('2026-01-29T12:00:00.000Z')
  expect(parseTime('1w', now)).toBe('2026-01-24T12:00:00.000Z')
})

test('--since takes a date', () => {
  expect(parseTime('2026-01-01T00:00:00+01:00', now)).toBe('2025-12-31T23:00:00.000Z')
})

test('--since refuses anything else with an example', () => {
  expect(() => parseTime('yesterday', now)).toThrow('Expected a duration such as 30m')
  expect(() => parseTime('5 minutes', now)).toThrow('Expected a duration such as 30m')
})
