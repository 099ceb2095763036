import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { fetchJson, startService, type RunningService } from '@zap/testkit/services'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
target.on('/down', () => new Response('nope', { status: 500 }))
let api: RunningService
let hooks: RunningService
let pipeline: Pipeline

beforeAll(async () => {
  const env = { LOG_LEVEL: 'info' }
  ;[api, hooks, pipeline] = await Promise.all([startService('api', env), startService('hooks', env), startPipeline({ ...env, STEP_MAX_ATTEMPTS: '2' })])
}, 60_000)

afterAll(async () => {
  await Promise.all([api?.stop(), hooks?.stop(), pipeline?.stop()])
  target.stop()
}, 30_000)

const lines = (output: string) => output.split('\n').filter((line) => line.trim() !== '')

describe('service logs', () => {
  test('every line is one JSON object; request ids are kept or made, echoed and logged; a webhook’s line names its zap and run; worker lines name the run, zap, step and attempt', async () => {
    const signup = await fetchJson(`${api.url}/api/v1/auth/signup`, { method: 'POST', body: JSON.stringify({ email: `logs-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Logs' }) })
    const token = signup.body.token as string
    const created = await fetchJson(`${api.url}/api/v1/zaps`, {
      method: 'POST',
      token,
      body: JSON.stringify({ name: 'logs', steps: [{ type: 'log', config: { message: 'hi' } }, { type: 'http', config: { url: `${target.url}/down` } }] }),
    })
    const zapId = created.body.zap.id as string

    const requestId = `req-${crypto.randomUUID()}`
    const kept = await fetchJson(`${hooks.url}/hooks/${zapId}`, { method: 'POST', body: '{"a":1}', headers: { 'x-request-id': requestId } })
    expect(kept.status).toBe(202)
    expect(kept.headers.get('x-request-id')).toBe(requestId)
    const made = await fetchJson(`${hooks.url}/hooks/${zapId}`, { method: 'POST', body: '{}' })
    expect(made.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)
    const refused = await fetchJson(`${hooks.url}/hooks/${zapId}`, { method: 'POST', body: '{}', headers: { 'x-request-id': 'two words\tand a tab' } })
    expect(refused.headers.get('x-request-id')).toMatch(/^[0-9a-f-]{36}$/)

    const runId = kept.body.runId as string
    const run = await waitForRun(token, runId)
    expect(run.status).toBe('failed')
    await Promise.all([api.stop(), hooks.stop(), pipeline.stop()])

    for (const service of [api, hooks, pipeline.processor, pipeline.worker]) {
      for (const line of lines(service.output())) {
        let entry: Record<string, unknown>
        try {
          entry = JSON.parse(line)
        } catch {
          throw new Error(`not a JSON line of ${service.process.pid}: ${line}\n${service.output()}`)
        }
        expect(typeof entry.level).toBe('string')
        expect(typeof entry.time).toBe('string')
        expect(typeof entry.msg).toBe('string')
      }
    }
    const hooksLines = lines(hooks.output()).map((line) => JSON.parse(line))
    expect(hooksLines.filter((entry) => entry.requestId === requestId)).toEqual([expect.objectContaining({ level: 'info', msg: 'request', method: 'POST', status: 202, path: `/hooks/${zapId}`, zapId, runId })])
    const stepLines = lines(pipeline.worker.output()).map((line) => JSON.parse(line)).filter((entry) => entry.runId === runId)
    expect(stepLines.map((entry) => [entry.zapId, entry.step, entry.attempt, entry.status])).toEqual([
      [zapId, 0, 1, 'succeeded'],
      [zapId, 1, 1, 'retrying'],
      [zapId, 1, 2, 'failed'],
    ])
    // Tracing is off: no line carries a trace id.
    expect([...hooksLines, ...stepLines].filter((entry) => 'trace_id' in entry)).toEqual([])
  }, 60_000)
})
