import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { createZap, signUp, sql } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { fetchJson, startService, waitUntil, type RunningService } from '@zap/testkit/services'
import { startTarget } from '@zap/testkit/target'

type ExportedSpan = { service: string; traceId: string; spanId: string; parentSpanId?: string; name: string; kind: number; status: { code: number }; attributes: Record<string, unknown> }

// OTLP's span kinds, as they come over the wire.
const kind = { server: 2, client: 3, producer: 4, consumer: 5 }
const collectorToken = 'Bearer otlp-test-token'

/** An OTLP/HTTP JSON receiver, as a collector would be: it keeps every span it is sent with the right header. */
function startCollector() {
  const spans: ExportedSpan[] = []
  const refused: string[] = []
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    async fetch(request) {
      if (new URL(request.url).pathname !== '/v1/traces' || request.method !== 'POST') return new Response('not found', { status: 404 })
      if (request.headers.get('authorization') !== collectorToken || !request.headers.get('content-type')?.startsWith('application/json')) {
        refused.push(`${request.headers.get('authorization')} ${request.headers.get('content-type')}`)
        return new Response('unauthorized', { status: 401 })
      }
      const body = (await request.json()) as { resourceSpans: any[] }
      for (const resource of body.resourceSpans) {
        const service = resource.resource.attributes.find((attribute: any) => attribute.key === 'service.name')?.value.stringValue
        for (const scope of resource.scopeSpans) {
          for (const span of scope.spans) {
            const attributes = Object.fromEntries(span.attributes.map((attribute: any) => [attribute.key, Object.values(attribute.value)[0]]))
            spans.push({ service, traceId: span.traceId, spanId: span.spanId, parentSpanId: span.parentSpanId || undefined, name: span.name, kind: span.kind, status: span.status, attributes })
          }
        }
      }
      return Response.json({})
    },
  })
  return { url: `http://127.0.0.1:${server.port}`, spans, refused, stop: () => server.stop(true) }
}

const collector = startCollector()
const target = startTarget()
const tracing = { OTEL_EXPORTER_OTLP_ENDPOINT: collector.url, OTEL_BSP_SCHEDULE_DELAY: '100', OTEL_EXPORTER_OTLP_HEADERS: `authorization=${collectorToken}` }
let hooks: RunningService
let pipeline: Pipeline
let token: string

beforeAll(async () => {
  ;[hooks, pipeline] = await Promise.all([startService('hooks', tracing), startPipeline(tracing)])
  token = (await signUp()).token
}, 60_000)

afterAll(async () => {
  await Promise.all([hooks?.stop(), pipeline?.stop()])
  target.stop()
  collector.stop()
}, 30_000)

describe('OpenTelemetry traces', () => {
  test('one webhook through an http step and a log step is one trace: ingest, a publish per step, both steps and the outgoing call, each under its parent', async () => {
    const zap = await createZap(token, {
      steps: [
        { type: 'http', config: { method: 'POST', url: `${target.url}/traced`, headers: { authorization: 'Bearer a-target-secret' }, body: { secret: '{{trigger.body.card}}' } } },
        { type: 'log', config: { message: 'after the call' } },
      ],
    })
    const posted = await fetchJson(`${hooks.url}/hooks/${zap.id}?token=a-query-secret`, { method: 'POST', body: JSON.stringify({ card: '4242-secret' }) })
    expect(posted.status).toBe(202)
    const runId = posted.body.runId as string
    expect((await waitForRun(token, runId)).status).toBe('succeeded')

    const ofRun = () => collector.spans.filter((span) => span.attributes['zap.run_id'] === runId)
    const ingest = () => ofRun().find((span) => span.service === 'zap-hooks')
    // The outgoing call names no run: it is found under the run's trace.
    const inTrace = () => collector.spans.filter((span) => span.traceId === ingest()?.traceId)
    await waitUntil(() => inTrace().length >= 6, () => `six spans of run ${runId} (have ${JSON.stringify(inTrace())})`)

    const root = ingest()!
    expect(root).toMatchObject({ name: 'webhook ingest', kind: kind.server, parentSpanId: undefined, attributes: { 'zap.zap_id': zap.id, 'zap.outcome': 'accepted', 'http.response.status_code': 202 } })
    expect(new Set(ofRun().map((span) => span.traceId))).toEqual(new Set([root.traceId]))
    // A message delivered twice adds a skipped step span: only the executions count.
    const spans = inTrace().filter((span) => span.attributes['zap.step.outcome'] !== 'skipped')
    expect(spans).toHaveLength(6)
    const byStep = (a: ExportedSpan, b: ExportedSpan) => Number(a.attributes['zap.step.index']) - Number(b.attributes['zap.step.index'])
    const publishes = spans.filter((span) => span.service === 'zap-processor').sort(byStep)
    const steps = spans.filter((span) => span.service === 'zap-worker' && span.kind === kind.consumer).sort(byStep)
    const [call] = spans.filter((span) => span.kind === kind.client)
    expect(publishes.map((span) => [span.name, span.kind, span.attributes['zap.step.index'], span.parentSpanId])).toEqual([
      [`publish ${pipeline.topic}`, kind.producer, 0, root.spanId],
      [`publish ${pipeline.topic}`, kind.producer, 1, root.spanId],
    ])
    expect(steps.map((span) => [span.name, span.attributes['zap.step.type'], span.attributes['zap.step.attempt'], span.attributes['zap.step.outcome'], span.parentSpanId])).toEqual([
      ['step http', 'http', 1, 'succeeded', publishes[0]!.spanId],
      ['step log', 'log', 1, 'succeeded', publishes[1]!.spanId],
    ])
    expect(call).toMatchObject({ service: 'zap-worker', name: 'POST', parentSpanId: steps[0]!.spanId, attributes: { 'http.request.method': 'POST', 'server.address': '127.0.0.1', 'http.response.status_code': 200 } })

    // The target was told the call's context, so its own spans join the trace.
    const [received] = target.requestsTo('/traced').filter((request) => request.headers['idempotency-key'] === `${runId}:0`)
    expect(received!.headers.traceparent).toBe(`00-${root.traceId}-${call!.spanId}-01`)
    // No span carries a secret, a payload or a URL's path and query.
    expect(JSON.stringify(spans)).not.toMatch(/secret|4242|traced|token/)
    expect(collector.refused).toEqual([])
    // The run keeps the ingest span's context for the steps still to come.
    const [run] = await sql<{ traceParent: string }[]>`select trace_parent as "traceParent" from runs where id = ${runId}`
    expect(run!.traceParent).toBe(`00-${root.traceId}-${root.spanId}-01`)

    // The webhook's request line and every worker line of the run carry the trace's id.
    const linesOf = (output: string) => output.split('\n').filter((line) => line.startsWith('{')).map((line) => JSON.parse(line))
    await waitUntil(() => linesOf(hooks.output()).some((entry) => entry.runId === runId), 'the webhook’s request line')
    expect(linesOf(hooks.output()).filter((entry) => entry.runId === runId)).toEqual([expect.objectContaining({ msg: 'request', zapId: zap.id, trace_id: root.traceId })])
    await waitUntil(() => linesOf(pipeline.worker.output()).filter((entry) => entry.runId === runId && entry.msg.startsWith('step ')).length >= 2, 'both steps’ lines')
    const workerLines = linesOf(pipeline.worker.output()).filter((entry) => entry.runId === runId)
    expect(workerLines.map((entry) => entry.trace_id)).toEqual(workerLines.map(() => root.traceId))
  }, 60_000)

  test('a refused webhook’s span carries its status and names no run', async () => {
    const unknownZap = crypto.randomUUID()
    const posted = await fetchJson(`${hooks.url}/hooks/${unknownZap}`, { method: 'POST', body: '{}' })
    expect(posted.status).toBe(404)
    const refused = () => collector.spans.find((span) => span.attributes['zap.zap_id'] === unknownZap)
    await waitUntil(() => refused() !== undefined, 'the refused webhook’s span')
    expect(refused()).toMatchObject({ name: 'webhook ingest', status: { code: 0 }, attributes: { 'zap.outcome': 'rejected', 'http.response.status_code': 404 } })
    expect(refused()!.attributes['zap.run_id']).toBeUndefined()
  })

  test('a malformed OTEL_EXPORTER_OTLP_ENDPOINT stops a service at start, naming the variable', async () => {
    const worker = Bun.spawn(['bun', join(import.meta.dir, 'main.ts')], {
      env: { ...Bun.env, ...pipeline.env, OTEL_EXPORTER_OTLP_ENDPOINT: 'collector:4318' },
      stdout: 'pipe',
      stderr: 'pipe',
    })
    expect(await worker.exited).toBe(1)
    expect(await new Response(worker.stderr).text()).toContain('OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318')
  })
})
