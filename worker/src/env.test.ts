import { expect, test } from 'bun:test'
import * as v from 'valibot'
import { workerEnv } from './env.ts'

const required = { DATABASE_URL: 'postgres://zap@localhost/zap', KAFKA_BROKERS: 'localhost:9092' }
const problems = (env: Record<string, string>) => v.safeParse(workerEnv, { ...required, ...env }).issues?.map((issue) => issue.message) ?? []

test('the defaults hand a dead worker’s partitions over in seconds and keep the step timeout within what the consumer tolerates', () => {
  const env = v.parse(workerEnv, required)
  expect(env.KAFKA_SESSION_TIMEOUT_MS).toBe(6_000)
  expect(env.STEP_TIMEOUT_MS).toBe(10_000)
})

test('a session shorter than the broker allows is refused at start, naming the variable', () => {
  expect(problems({ KAFKA_SESSION_TIMEOUT_MS: '5999' })).toEqual([expect.stringContaining('KAFKA_SESSION_TIMEOUT_MS must be at least 6000')])
})

test('a step timeout over half the rebalance timeout is refused at start, naming the variable', () => {
  expect(problems({ STEP_TIMEOUT_MS: '30000' })).toEqual([])
  expect(problems({ STEP_TIMEOUT_MS: '30001' })).toEqual([expect.stringContaining('STEP_TIMEOUT_MS must be at most 30000')])
})
