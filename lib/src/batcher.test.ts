import { describe, expect, test } from 'bun:test'
import { createBatcher } from './batcher.ts'

class Outage extends Error {}
class BadRow extends Error {}

function recorder(options: { maxItems?: number; failOn?: string; failWith?: new (message: string) => Error } = {}) {
  const calls: string[][] = []
  const batched = createBatcher({
    many: async (items: string[]) => {
      calls.push(items)
      if (options.failOn && items.includes(options.failOn)) throw new (options.failWith ?? BadRow)('refused')
      return items.map((item) => item.toUpperCase())
    },
    one: async (item: string) => {
      calls.push([`one:${item}`])
      if (item === options.failOn) throw new (options.failWith ?? BadRow)(`refused ${item}`)
      return item.toUpperCase()
    },
    splitOn: (error) => error instanceof BadRow,
    waitMs: 2,
    maxItems: options.maxItems ?? 100,
  })
  return { batched, calls }
}

describe('createBatcher', () => {
  test('calls made together are done in one go, each answered with its own result', async () => {
    const { batched, calls } = recorder()
    expect(await Promise.all(['a', 'b', 'c'].map(batched))).toEqual(['A', 'B', 'C'])
    expect(calls).toEqual([['a', 'b', 'c']])
  })

  test('a call alone is done by `one`, and calls apart in time are batched apart', async () => {
    const { batched, calls } = recorder()
    expect(await batched('a')).toBe('A')
    expect(await Promise.all([batched('b'), batched('c')])).toEqual(['B', 'C'])
    expect(calls).toEqual([['one:a'], ['b', 'c']])
  })

  test('a batch is sent as soon as it holds maxItems calls', async () => {
    const { batched, calls } = recorder({ maxItems: 2 })
    expect(await Promise.all(['a', 'b', 'c', 'd', 'e'].map(batched))).toEqual(['A', 'B', 'C', 'D', 'E'])
    expect(calls).toEqual([['a', 'b'], ['c', 'd'], ['one:e']])
  })

  test('a batch refused for one item’s sake is done item by item: only that item fails', async () => {
    const { batched, calls } = recorder({ failOn: 'b' })
    const results = await Promise.allSettled(['a', 'b', 'c'].map(batched))
    expect(results.map((result) => (result.status === 'fulfilled' ? result.value : (result.reason as Error).message))).toEqual(['A', 'refused b', 'C'])
    expect(calls).toEqual([['a', 'b', 'c'], ['one:a'], ['one:b'], ['one:c']])
  })

  test('a batch failing for a reason that is not the items’ fails every call of it, without retrying', async () => {
    const { batched, calls } = recorder({ failOn: 'b', failWith: Outage })
    const results = await Promise.allSettled(['a', 'b', 'c'].map(batched))
    expect(results.every((result) => result.status === 'rejected' && result.reason instanceof Outage)).toBe(true)
    expect(calls).toEqual([['a', 'b', 'c']])
  })
})
