import { expect, test } from 'bun:test'
import { createLogger } from '@zap/lib/log'
import { createOffsetTracker, type OffsetCommit } from './offsets.ts'

const log = createLogger('offsets-test', { level: 'silent', pretty: false })

function tracker() {
  const sent: OffsetCommit[][] = []
  const offsets = createOffsetTracker(async (commits) => void sent.push(commits), log)
  return { offsets, sent, flushed: async () => (await offsets.flush(), sent.at(-1)) }
}

test('messages finishing out of order commit only up to the first one still running', async () => {
  const { offsets, flushed } = tracker()
  const partition = offsets.partition(0, '10')
  const [ten, eleven, twelve] = ['10', '11', '12'].map((offset) => partition.take(offset))
  twelve!()
  eleven!()
  expect(await flushed()).toBeUndefined()
  ten!()
  expect(await flushed()).toEqual([{ partition: 0, offset: '13' }])
})

test('a fetch that starts again at an offset already taken (a rebalance) starts the count over', async () => {
  const { offsets, flushed } = tracker()
  const before = offsets.partition(3, '5').take('5')
  const again = offsets.partition(3, '5').take('5')
  before() // the old delivery finishing says nothing for the new one
  expect(await flushed()).toBeUndefined()
  again()
  expect(await flushed()).toEqual([{ partition: 3, offset: '6' }])
})

test('a partition this member no longer holds is not committed', async () => {
  const { offsets, flushed } = tracker()
  const kept = offsets.partition(1, '0').take('0')
  const lost = offsets.partition(2, '0').take('0')
  offsets.retain([1])
  lost()
  kept()
  expect(await flushed()).toEqual([{ partition: 1, offset: '1' }])
})
