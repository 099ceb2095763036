import { describe, expect, test } from 'bun:test'
import { jsonPreview, jsonSize, truncateText } from './size.ts'

describe('sizes and previews of stored values', () => {
  test('the size is the UTF-8 length of the JSON for values without escapes', () => {
    for (const value of [{ a: [1, 'two', { 'ü': null, b: true }], c: '😀 café' }, [], {}, 'x', 12.5, [[[]]]]) {
      expect(jsonSize(value, Number.POSITIVE_INFINITY)).toBe(Buffer.byteLength(JSON.stringify(value)))
    }
  })

  test('counting stops soon after the limit, whatever the value holds', () => {
    const huge = Array.from({ length: 200_000 }, () => ({ text: 'x'.repeat(100) }))
    expect(jsonSize(huge, 1_000)).toBeGreaterThan(1_000)
    expect(jsonSize('x'.repeat(10_000_000), 1_000)).toBeGreaterThan(1_000)
  })

  test('a deep value is measured without recursion', () => {
    let deep: unknown = 'end'
    for (let level = 0; level < 200_000; level++) deep = [deep]
    expect(jsonSize(deep, Number.POSITIVE_INFINITY)).toBe(400_000 + 5)
  })

  test('a preview is the start of the JSON text, bounded', () => {
    const value = { a: 'x'.repeat(5_000), b: [1, 2, 3] }
    const preview = jsonPreview(value, 100)
    expect(preview).toHaveLength(101)
    expect(preview.endsWith('…')).toBe(true)
    expect(JSON.stringify(value).startsWith(preview.slice(0, 100))).toBe(true)
    expect(jsonPreview({ a: 1 }, 100)).toBe('{"a":1}')
  })

  test('truncating never leaves half a surrogate pair', () => {
    const cut = truncateText('ab😀', 3)
    expect(cut.isWellFormed()).toBe(true)
    expect(cut.endsWith('…')).toBe(true)
  })
})
