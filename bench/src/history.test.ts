import { describe, expect, test } from 'bun:test'
import { chunksOf } from './history.ts'

describe('chunksOf', () => {
  test('covers every run once, in order, the last chunk holding the remainder', () => {
    expect(chunksOf(250, 100)).toEqual([[0, 100], [100, 200], [200, 250]])
  })

  test('makes one chunk for fewer runs than a chunk, and none for no runs', () => {
    expect(chunksOf(7, 100)).toEqual([[0, 7]])
    expect(chunksOf(0, 100)).toEqual([])
  })
})
