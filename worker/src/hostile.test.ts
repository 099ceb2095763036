import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startService, type RunningService } from '@zap/testkit/services'
import { startTarget } from '@zap/testkit/target'

// Zaps written to make a worker do unbounded work with a webhook of the largest accepted size.
const target = startTarget()
let pipeline: Pipeline
let hooks: RunningService
let token: string

beforeAll(async () => {
  pipeline = await startPipeline({ STEP_MAX_OUTPUT_BYTES: '100000', RUN_MAX_OUTPUT_BYTES: '250000' })
  // Storing a 1 MB body can pass the 2 s ingest deadline on a loaded machine; this file is about the worker.
  hooks = await startService('hooks', { MAX_BODY_BYTES: String(2 * 1024 * 1024), INGEST_TIMEOUT_MS: '15000' })
  token = (await signUp()).token
}, 60_000)

afterAll(async () => {
  await Promise.all([pipeline?.stop(), hooks?.stop()])
  target.stop()
}, 30_000)

const big = 'x'.repeat(1_000_000)

async function fire(zapId: string, body: unknown) {
  const response = await fetch(`${hooks.url}/hooks/${zapId}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })
  expect(response.status).toBe(202)
  return ((await response.json()) as { runId: string }).runId
}

async function peakRssBytes(pid: number) {
  const status = await Bun.file(`/proc/${pid}/status`).text()
  return Number(status.match(/^VmHWM:\s+(\d+) kB$/m)![1]) * 1024
}

describe('a hostile zap', () => {
  test('a transform referencing a 1 MB field 300 times fails with the size error, stores a preview and keeps the worker small', async () => {
    const output = Object.fromEntries(Array.from({ length: 300 }, (_, n) => [`copy${n}`, '{{trigger.body.big}}']))
    const zap = await createZap(token, { steps: [{ type: 'transform', config: { output } }, { type: 'log', config: { message: 'never' } }] })
    const runIds = await Promise.all(Array.from({ length: 6 }, () => fire(zap.id, { big })))
    for (const runId of runIds) {
      const run = await waitForRun(token, runId, 60_000)
      expect(run.status).toBe('failed')
      expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1, input: { truncated: true } })
      expect(run.steps[0]!.error).toContain('STEP_MAX_RENDERED_BYTES')
      expect(run.steps[0]!.input.preview.length).toBeLessThanOrEqual(1_001)
      expect(run.steps[0]!.input.config).toBeUndefined()
      // The trigger's megabyte is all a run weighs: before the cap it was 150 MB per run.
      expect(JSON.stringify((await call(api, 'GET', `/api/v1/runs/${runId}`, { token })).body).length).toBeLessThan(1_100_000)
    }
    // Before the cap, 100 references took the worker to 0.7-1.1 GB and 300 to 5 GB.
    expect(await peakRssBytes(pipeline.worker.process.pid)).toBeLessThan(400 * 1024 * 1024)
  }, 120_000)

  test('a transform within the cap still succeeds', async () => {
    const zap = await createZap(token, { steps: [{ type: 'transform', config: { output: { text: '{{trigger.body.text}}' } } }] })
    const run = await waitForRun(token, await fire(zap.id, { text: 'y'.repeat(50_000) }))
    expect(run.status).toBe('succeeded')
    expect(run.steps[0]!.output.text).toHaveLength(50_000)
  })

  test('a log step failing its size check stores a preview of its rendered input, not the input', async () => {
    const zap = await createZap(token, { steps: [{ type: 'log', config: { message: 'start {{trigger.body.big}}' } }] })
    const run = await waitForRun(token, await fire(zap.id, { big }))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.error).toContain('config.message')
    expect(run.steps[0]!.input).toMatchObject({ truncated: true })
    expect(run.steps[0]!.input.preview).toStartWith('{"message":"start xxx')
    expect(JSON.stringify(run.steps[0]!.input).length).toBeLessThan(2_000)
  })

  test('an output over STEP_MAX_OUTPUT_BYTES fails the step and only its start is kept', async () => {
    target.on('/large', () => Response.json({ items: 'z'.repeat(200_000) }))
    const zap = await createZap(token, { steps: [{ type: 'http', config: { url: `${target.url}/large` } }, { type: 'log', config: { message: '{{steps.0.output.body.items}}' } }] })
    const run = await waitForRun(token, await fire(zap.id, {}))
    expect(run.status).toBe('failed')
    expect(run.steps[0]).toMatchObject({ status: 'failed', attempts: 1, output: { truncated: true } })
    expect(run.steps[0]!.error).toContain('STEP_MAX_OUTPUT_BYTES')
    expect(run.steps[0]!.output.preview.length).toBeLessThanOrEqual(1_001)
    expect(run.steps[1]!.status).toBe('pending')
  })

  test('outputs that together pass RUN_MAX_OUTPUT_BYTES fail the step that would pass it', async () => {
    const copy = { type: 'transform', config: { output: { text: '{{trigger.body.text}}' } } }
    const zap = await createZap(token, { steps: [copy, copy, copy, copy, { type: 'log', config: { message: 'never' } }] })
    const run = await waitForRun(token, await fire(zap.id, { text: 'w'.repeat(70_000) }))
    expect(run.status).toBe('failed')
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'pending'])
    expect(run.steps[3]!.error).toContain('RUN_MAX_OUTPUT_BYTES')
    expect(run.steps[3]!.output).toMatchObject({ truncated: true })
  })

  test('a filter failing on a 1 MB value records a short reason', async () => {
    const zap = await createZap(token, { steps: [{ type: 'filter', config: { conditions: [{ left: '{{trigger.body.big}}', op: 'equals', right: 'small' }] } }, { type: 'log', config: { message: 'never' } }] })
    const run = await waitForRun(token, await fire(zap.id, { big }))
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'skipped'])
    expect(run.steps[1]!.error!.length).toBeLessThan(500)
  })

  test('a NUL character in a target’s response is stored as text instead of failing the run', async () => {
    target.on('/nul', () => new Response('{"a":"b\\u0000c"}\u0000', { headers: { 'content-type': 'application/json' } }))
    const zap = await createZap(token, { steps: [{ type: 'http', config: { url: `${target.url}/nul` } }] })
    const run = await waitForRun(token, await fire(zap.id, {}))
    expect(run.status).toBe('succeeded')
    expect(run.steps[0]!.output.body).toBe('{"a":"b\\u0000c"}\uFFFD')
  })
})
