import * as v from 'valibot'
import { findUnstorableText, type httpConfig } from '@zap/lib/steps'
import { BlockedTargetError, fetchFrom, resolveTarget, type Resolve, type TargetScope } from '../targets.ts'
import { permanentFailure, retryableFailure, succeeded, type StepOutcome } from './result.ts'
import { describeSpan, inSpan, SpanKind, traceParentOf, type Span } from '@zap/lib/trace'

export type HttpStepOptions = { targetScope: TargetScope; resolve: Resolve; timeoutMs: number; maxResponseBytes: number; idempotencyKey: string; span?: Span | null }

type HttpConfig = v.InferOutput<typeof httpConfig>

/** Sends the rendered request; 2xx succeeds, 408/429/5xx and network errors are worth retrying. */
export async function runHttpStep(config: HttpConfig, options: HttpStepOptions): Promise<StepOutcome> {
  let url: URL
  try {
    url = new URL(String(config.url))
  } catch {
    return permanentFailure(`The rendered URL "${config.url}" is not a valid URL`)
  }
  let addresses: string[]
  try {
    addresses = await resolveTarget(url, options.targetScope, options.resolve)
  } catch (error) {
    if (error instanceof BlockedTargetError) return permanentFailure(error.message)
    return retryableFailure(`Could not resolve ${url.hostname}: ${(error as Error).message}`)
  }
  const headers = new Headers(config.headers as Record<string, string> | undefined)
  headers.set('idempotency-key', options.idempotencyKey)
  // Only the method and the host: a URL's path or query may hold a token.
  const attributes = { 'http.request.method': config.method, 'server.address': url.hostname, 'server.port': Number(url.port) || (url.protocol === 'https:' ? 443 : 80) }
  return inSpan(config.method, SpanKind.CLIENT, options.span, attributes, async (span) => {
    if (span) headers.set('traceparent', traceParentOf(span)!)
    const outcome = await send(config, url, addresses, headers, options)
    const status = (outcome.output as { status?: number } | undefined)?.status
    describeSpan(span, status === undefined ? {} : { 'http.response.status_code': status }, outcome.kind === 'failed')
    return outcome
  })
}

async function send(config: HttpConfig, url: URL, addresses: string[], headers: Headers, options: HttpStepOptions): Promise<StepOutcome> {
  const body = encodeBody(config, headers)
  const timeoutMs = Math.min(config.timeoutMs ?? options.timeoutMs, options.timeoutMs)
  let response: Response
  try {
    response = await fetchFrom(url, addresses, { method: config.method, headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
  } catch (error) {
    const timedOut = (error as Error).name === 'TimeoutError'
    return retryableFailure(timedOut ? `No response from ${url.host} within ${timeoutMs} ms` : `Request to ${url.host} failed: ${(error as Error).message}`)
  }
  const output = await describeResponse(response, options.maxResponseBytes)
  const status = response.status
  if (status >= 200 && status < 300) return succeeded(output)
  const error = `${config.method} ${url.origin}${url.pathname} answered ${status}`
  if (status === 408 || status === 429 || status >= 500) return retryableFailure(error, { output, retryAfterMs: retryAfter(response) })
  if (status >= 300 && status < 400) return permanentFailure(`${error} (redirects are not followed)`, output)
  return permanentFailure(error, output)
}

function encodeBody(config: HttpConfig, headers: Headers) {
  if (config.body === undefined || config.method === 'GET' || config.method === 'HEAD') return undefined
  if (typeof config.body === 'string') return config.body
  if (!headers.has('content-type')) headers.set('content-type', 'application/json')
  return JSON.stringify(config.body)
}

async function describeResponse(response: Response, maxBytes: number) {
  const { text: raw, truncated } = await readCapped(response, maxBytes)
  // PostgreSQL stores neither NUL nor lone surrogates: such a body is kept as text, with NUL replaced.
  const text = raw.replaceAll('\0', '\uFFFD')
  const contentType = response.headers.get('content-type') ?? ''
  let body: unknown = text
  if (!truncated && /json/i.test(contentType)) {
    try {
      const parsed = JSON.parse(text)
      if (!findUnstorableText(parsed)) body = parsed
    } catch {}
  }
  return { status: response.status, headers: Object.fromEntries(response.headers), body, ...(truncated ? { truncated: true } : {}) }
}

async function readCapped(response: Response, maxBytes: number) {
  if (!response.body) return { text: '', truncated: false }
  // A body of a declared length within the cap is read at once: read as a stream, 64 steps in flight held 6-11 MB more.
  // A compressed body's length says nothing of what it inflates to, so it is streamed.
  const declared = Number(response.headers.get('content-length') ?? Number.NaN)
  if (!response.headers.has('content-encoding') && Number.isSafeInteger(declared) && declared <= maxBytes) return { text: await response.text(), truncated: false }
  const chunks: Uint8Array[] = []
  let size = 0
  let truncated = false
  for await (const chunk of response.body) {
    chunks.push(chunk.subarray(0, Math.max(0, maxBytes - size)))
    size += chunk.byteLength
    if (size > maxBytes) {
      truncated = true
      await response.body.cancel().catch(() => {})
      break
    }
  }
  return { text: new TextDecoder().decode(Buffer.concat(chunks)), truncated }
}

function retryAfter(response: Response) {
  const header = response.headers.get('retry-after')
  if (!header) return undefined
  const seconds = Number(header)
  const ms = Number.isFinite(seconds) ? seconds * 1000 : Date.parse(header) - Date.now()
  return Number.isFinite(ms) && ms >= 0 ? ms : undefined
}
