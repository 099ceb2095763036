import { afterAll, beforeAll, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
let pipeline: Pipeline

beforeAll(async () => {
  pipeline = await startPipeline({ ALLOW_PRIVATE_TARGETS: 'false' })
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  target.stop()
}, 30_000)

test('without ALLOW_PRIVATE_TARGETS a step calling loopback fails at once and sends nothing', async () => {
  const { token } = await signUp()
  const zap = await createZap(token, { steps: [{ type: 'http', config: { url: `${target.url}/internal` } }] })
  const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
  const run = await waitForRun(token, accepted.body.runId)
  expect(run.status).toBe('failed')
  expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1 })
  expect(run.steps[0]!.error).toContain('ALLOW_PRIVATE_TARGETS')
  expect(target.received).toHaveLength(0)
})

test('an IPv4-compatible IPv6 literal for loopback is refused too', async () => {
  const { token } = await signUp()
  const port = new URL(target.url).port
  const zap = await createZap(token, { steps: [{ type: 'http', config: { url: `http://[::127.0.0.1]:${port}/compatible` } }] })
  const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: {} })
  const run = await waitForRun(token, accepted.body.runId)
  expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1 })
  expect(run.steps[0]!.error).toContain('ipv4Compatible')
  expect(target.requestsTo('/compatible')).toHaveLength(0)
})
