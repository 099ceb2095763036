import { describe, expect, test } from 'bun:test'
import { percentile } from './stats.ts'

describe('percentile', () => {
  test('takes the nearest rank, so p50 of 1..10 is 5 and p99 is 10', () => {
    const values = Array.from({ length: 10 }, (_, index) => index + 1)
    expect(percentile(values, 50)).toBe(5)
    expect(percentile(values, 99)).toBe(10)
    expect(percentile(values, 0)).toBe(1)
  })

  test('is NaN for no values rather than a made-up number', () => {
    expect(percentile([], 50)).toBeNaN()
  })
})
