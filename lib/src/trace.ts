import { ROOT_CONTEXT, SpanKind, SpanStatusCode, trace, type Attributes, type Span, type Tracer } from '@opentelemetry/api'
import type { W3CTraceContextPropagator } from '@opentelemetry/core'

export { SpanKind, type Span }

export type TracingSettings = { endpoint: string | undefined; exportDelayMs: number }

// Null while tracing is off: every helper below then returns at once, without touching the SDK.
let tracing: { tracer: Tracer; propagator: W3CTraceContextPropagator } | null = null

/**
 * Sends this process's spans to `endpoint` over OTLP/HTTP (JSON), in batches every `exportDelayMs`;
 * without an endpoint tracing stays off and the SDK is never loaded. Returns what flushes them at shutdown.
 */
export async function startTracing(service: string, { endpoint, exportDelayMs }: TracingSettings): Promise<() => Promise<void>> {
  if (endpoint === undefined) return async () => {}
  const [{ TracerProvider, BatchSpanProcessor }, { OTLPTraceExporter }, { resourceFromAttributes }, { W3CTraceContextPropagator }] = await Promise.all([
    import('@opentelemetry/sdk-trace'),
    import('@opentelemetry/exporter-trace-otlp-http'),
    import('@opentelemetry/resources'),
    import('@opentelemetry/core'),
  ])
  const exporter = new OTLPTraceExporter({ url: `${endpoint.replace(/\/+$/, '')}/v1/traces` })
  const provider = new TracerProvider({
    resource: resourceFromAttributes({ 'service.name': `zap-${service}` }),
    spanProcessors: [new BatchSpanProcessor({ exporter, scheduledDelayMillis: exportDelayMs })],
  })
  tracing = { tracer: provider.getTracer('zap'), propagator: new W3CTraceContextPropagator() }
  return async () => {
    tracing = null
    await provider.shutdown()
  }
}

export const isTracing = () => tracing !== null

/** A span under `parent` (a span, or a W3C traceparent from a row or a message), or the root of a new trace; null while tracing is off. */
export function startSpan(name: string, kind: SpanKind, parent: Span | string | null | undefined, attributes?: Attributes): Span | null {
  if (!tracing) return null
  const { tracer, propagator } = tracing
  const context = typeof parent === 'string' ? propagator.extract(ROOT_CONTEXT, { traceparent: parent }, getter) : parent ? trace.setSpan(ROOT_CONTEXT, parent) : ROOT_CONTEXT
  return tracer.startSpan(name, { kind, attributes }, context)
}

/** The W3C traceparent naming `span`, to store or send on. */
export function traceParentOf(span: Span | null): string | null {
  if (!span || !tracing) return null
  const carrier: { traceparent?: string } = {}
  tracing.propagator.inject(trace.setSpan(ROOT_CONTEXT, span), carrier, setter)
  return carrier.traceparent ?? null
}

/** The trace id a W3C traceparent names, for log lines to carry as `trace_id` while tracing is on; undefined otherwise. */
export function traceIdOf(traceParent: string | null | undefined): string | undefined {
  if (!tracing || !traceParent) return undefined
  return /^[\da-f]{2}-([\da-f]{32})-[\da-f]{16}-[\da-f]{2}$/.exec(traceParent)?.[1]
}

/** Adds what came of `span`, marked as an error when `failed`; never an error's message, which may quote a payload. */
export function describeSpan(span: Span | null, attributes: Attributes, failed = false) {
  if (!span) return
  span.setAttributes(attributes)
  if (failed) span.setStatus({ code: SpanStatusCode.ERROR })
}

export function endSpan(span: Span | null, attributes: Attributes = {}, failed = false) {
  describeSpan(span, attributes, failed)
  span?.end()
}

/** Runs `work` inside a span (null while tracing is off), ended when it settles; a throw marks it as an error. */
export function inSpan<T>(name: string, kind: SpanKind, parent: Span | string | null | undefined, attributes: Attributes, work: (span: Span | null) => Promise<T>): Promise<T> {
  const span = startSpan(name, kind, parent, attributes)
  if (!span) return work(null)
  return work(span).then(
    (result) => (span.end(), result),
    (error) => {
      endSpan(span, { 'error.type': (error as Error)?.name ?? 'Error' }, true)
      throw error
    },
  )
}

const getter = { get: (carrier: { traceparent: string }, key: string) => (key === 'traceparent' ? carrier.traceparent : undefined), keys: () => ['traceparent'] }
const setter = { set: (carrier: { traceparent?: string }, key: string, value: string) => key === 'traceparent' && (carrier.traceparent = value) }
