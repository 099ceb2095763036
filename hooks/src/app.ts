import { Elysia } from 'elysia'
import type { Sql } from '@zap/sql/db'
import { acceptRun } from '@zap/sql/runs'
import type { Trigger } from '@zap/lib/resources'
import { outboxNotifier } from '@zap/sql/outbox'
import { databaseUnavailable, HttpError, notFound } from '@zap/lib/errors'
import { addToRequestLine, requestHandling } from '@zap/lib/http'
import type { Logger } from '@zap/lib/log'
import { health, type DatabaseWatch } from '@zap/lib/health'
import { webhookIngestSeconds, webhooksReceived } from '@zap/lib/metrics'
import { isDatabaseDown } from '@zap/lib/database'
import { openapiDocs } from '@zap/lib/openapi'
import { isUuid } from '@zap/lib/ids'
import { readLimitedBody } from '@zap/lib/body'
import { decodeBody, requireStorable } from './body.ts'
import { digestOf, sameText, verifyRequest } from './verification.ts'
import { findZapVerify } from '@zap/sql/zaps'
import { recordRejection, type RejectionKind } from '@zap/sql/rejections'
import type { Verify } from '@zap/lib/verify'
import { hooksDocument } from './document.ts'
import { defaultMaxRequestsPerAddress, senderSlots } from './senders.ts'
import { webhookLimits } from './limits.ts'
import type { RateLimit } from '@zap/sql/rate-limits'
import { ingestion, type IngestLimits } from './ingest.ts'
import { endSpan, SpanKind, startSpan, traceIdOf, traceParentOf, type Span } from '@zap/lib/trace'

export type HooksOptions = {
  sql: Sql
  database: DatabaseWatch
  maxBodyBytes: number
  maxJsonDepth: number
  webhookRateLimit: RateLimit
  userWebhookRateLimit: RateLimit
  ingestLimits: IngestLimits
  /** Webhook requests one sender address may have in flight; HOOKS_MAX_REQUESTS_PER_ADDRESS. */
  maxRequestsPerAddress?: number
  log: Logger
}

export function createHooks({ sql, database, maxBodyBytes, maxJsonDepth, webhookRateLimit, userWebhookRateLimit, ingestLimits, maxRequestsPerAddress = defaultMaxRequestsPerAddress, log }: HooksOptions) {
  const wakeRelays = outboxNotifier(sql)
  const limitWebhook = webhookLimits(sql, webhookRateLimit, userWebhookRateLimit)
  const ingest = ingestion(sql, ingestLimits)
  const withSenderSlot = senderSlots(maxRequestsPerAddress)

  // While the readiness check finds the database away, a webhook is answered 503 at once rather
  // than after the ingest deadline; the check runs four times a second until the database is back.
  function refuseWhileDatabaseDown() {
    if (database.isDown()) throw databaseUnavailable(database.problem())
  }

  async function receive(span: Span | null, request: Request, senderIp: SenderIp, zapIdAsTyped: string, ownerIdAsTyped?: string) {
    const { zapId, ownerId } = idsOf(zapIdAsTyped, ownerIdAsTyped)
    span?.setAttribute('zap.zap_id', zapId)
    refuseWhileDatabaseDown()
    const traceParent = traceParentOf(span)
    addToRequestLine(request, { zapId, trace_id: traceIdOf(traceParent) })
    const deadline = ingest.deadline()
    await deadline.before(limitWebhook(zapId))
    const bytes = await readLimitedBody(request, maxBodyBytes)
    const headers = request.headers
    const contentType = headers.get('content-type')
    const url = new URL(request.url)
    const trigger: Trigger = {
      body: decodeBody(bytes, contentType, maxJsonDepth),
      contentType,
      headers: Object.fromEntries(headers),
      query: Object.fromEntries(url.searchParams),
    }
    requireStorable(trigger.headers, 'headers')
    requireStorable(trigger.query, 'query')
    const idempotencyKey = headers.get('idempotency-key') ?? headers.get('webhook-id')
    if (idempotencyKey !== null && Buffer.byteLength(idempotencyKey) > maxIdempotencyKeyBytes) {
      throw new HttpError(400, 'invalid_idempotency_key', `Idempotency-Key (or webhook-id) is longer than ${maxIdempotencyKeyBytes} bytes`)
    }
    const input = { zapId, ownerId, trigger, idempotencyKey, verified: false, traceParent }
    const gathered = await ingest.storeGathered(deadline, input)
    const result = gathered.outcome !== 'needs_transaction' ? gathered : await ingest.store(deadline, async (tx) => {
      const first = await acceptRun(tx, input)
      if (first.outcome !== 'needs_verification') return first
      const verification = verifyRequest(first.verify, { headers, body: bytes, now: Date.now() })
      if (!verification.ok) return { outcome: 'refused' as const, reason: verification.reason }
      const challenge = slackChallengeOf(first.verify, trigger.body)
      if (challenge !== null) return { outcome: 'challenge' as const, challenge }
      // What the sender signed names the delivery: an unsigned Idempotency-Key can neither replace nor split it.
      const { deliveryId } = verification
      const verifiedKey = deliveryId === undefined ? idempotencyKey : Buffer.byteLength(deliveryId) > maxIdempotencyKeyBytes ? digestOf(deliveryId) : deliveryId
      return acceptRun(tx, { ...input, idempotencyKey: verifiedKey, verified: true })
    })
    switch (result.outcome) {
      case 'refused':
        // Recorded apart from the transaction, which stored nothing.
        await recordRejection(sql, zapId, rejectionOf('signature', request, senderIp, bytes, result.reason))
        throw new HttpError(401, 'invalid_signature', result.reason)
      case 'challenge':
        return handshake(Response.json({ challenge: result.challenge }))
      case 'accepted':
        span?.setAttribute('zap.run_id', result.runId)
        addToRequestLine(request, { runId: result.runId })
        wakeRelays()
        return new Response(JSON.stringify({ runId: result.runId, ...(result.debouncedInto ? { debouncedInto: result.debouncedInto } : {}) }), { status: 202, headers: jsonHeaders })
      case 'duplicate':
        addToRequestLine(request, { runId: result.runId })
        return new Response(JSON.stringify({ runId: result.runId, duplicate: true }), { status: 200, headers: jsonHeaders })
      case 'disabled':
        throw new HttpError(409, 'zap_disabled', 'This zap is disabled; enable it to accept webhooks')
      default:
        throw notFound('Zap')
    }
  }

  /** Meta-style subscription checks: `?hub.mode=subscribe&hub.challenge=…&hub.verify_token=…` echo the challenge when the token is the zap's. */
  async function answerSubscription(request: Request, senderIp: SenderIp, zapIdAsTyped: string, ownerIdAsTyped?: string) {
    const { zapId, ownerId } = idsOf(zapIdAsTyped, ownerIdAsTyped)
    refuseWhileDatabaseDown()
    await limitWebhook(zapId)
    const zap = await findZapVerify(sql, zapId, ownerId)
    if (!zap) throw notFound('Zap')
    const query = new URL(request.url).searchParams
    const challenge = query.get('hub.challenge')
    const token = query.get('hub.verify_token')
    if (query.get('hub.mode') !== 'subscribe' || !challenge || token === null) {
      throw new HttpError(400, 'invalid_subscription_check', 'GET only answers subscription checks: ?hub.mode=subscribe&hub.challenge=<text>&hub.verify_token=<token>')
    }
    if (challenge.length > maxChallengeLength) throw new HttpError(400, 'invalid_subscription_check', `hub.challenge is longer than ${maxChallengeLength} characters`)
    const expected = zap.verify?.verifyToken
    if (expected === undefined || !sameText(token, expected)) {
      const reason = expected === undefined ? 'Subscription check, but the zap has no verifyToken' : 'hub.verify_token does not match the zap’s verifyToken'
      await recordRejection(sql, zapId, rejectionOf('handshake', request, senderIp, new Uint8Array(0), reason))
      throw new HttpError(403, 'invalid_verify_token', `${reason}; set "verify": {..., "verifyToken": "<the token you gave the sender>"}`)
    }
    return handshake(new Response(challenge, { status: 200, headers: { 'content-type': 'text/plain; charset=utf-8' } }))
  }

  type Server = { requestIP(request: Request): { address: string } | null } | null
  type Context<Params> = { request: Request; params: Params; server: Server }
  // Each handler names the parts of the context it reads: Elysia prepares only those (given the whole context, it parses the cookies too).
  const byZap = ({ request, params, server }: Context<{ zapId: string }>) => counted(slotted(request, server, (span, senderIp) => receive(span, request, senderIp, params.zapId)))
  const byOwner = ({ request, params, server }: Context<{ userId: string; zapId: string }>) =>
    counted(slotted(request, server, (span, senderIp) => receive(span, request, senderIp, params.zapId, params.userId)))
  const checkByZap = ({ request, params, server }: Context<{ zapId: string }>) => counted(slotted(request, server, (_, senderIp) => answerSubscription(request, senderIp, params.zapId)))
  const checkByOwner = ({ request, params, server }: Context<{ userId: string; zapId: string }>) =>
    counted(slotted(request, server, (_, senderIp) => answerSubscription(request, senderIp, params.zapId, params.userId)))

  /** Runs `receive` in one of its sender address's slots. */
  function slotted(request: Request, server: Server, receive: (span: Span | null, senderIp: SenderIp) => Promise<Response>) {
    return (span: Span | null) => {
      const address = server?.requestIP(request)?.address ?? null
      return withSenderSlot(address, () => receive(span, () => address))
    }
  }

  return new Elysia()
    .use(requestHandling(log))
    .use(openapiDocs(hooksDocument))
    .use(health(database))
    .post('/hooks/:zapId', byZap, { parse: 'none' })
    .put('/hooks/:zapId', byZap, { parse: 'none' })
    .patch('/hooks/:zapId', byZap, { parse: 'none' })
    .get('/hooks/:zapId', checkByZap)
    .post('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
    .put('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
    .patch('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
    .get('/hooks/catch/:userId/:zapId', checkByOwner)
}

const maxIdempotencyKeyBytes = 255

/** The ids of a webhook URL in their one spelling (else 404): a zap's webhooks are counted against its limit by it. */
function idsOf(zapId: string, ownerId?: string) {
  if (!isUuid(zapId) || (ownerId !== undefined && !isUuid(ownerId))) throw notFound('Zap')
  return { zapId: zapId.toLowerCase(), ownerId: ownerId?.toLowerCase() }
}

type SenderIp = () => string | null

// A sender's handshake is answered without a run; the metrics count it apart from duplicates.
const handshakes = new WeakSet<Response>()
const handshake = (response: Response) => (handshakes.add(response), response)
const maxChallengeLength = 1000
const maxBodyPreview = 1000

/** Slack's `url_verification` handshake, answered once its signature verified. */
function slackChallengeOf(verify: Verify, body: unknown) {
  if (verify.scheme !== 'slack' || body === null || typeof body !== 'object') return null
  const { type, challenge } = body as { type?: unknown; challenge?: unknown }
  return type === 'url_verification' && typeof challenge === 'string' ? challenge : null
}

function rejectionOf(kind: RejectionKind, request: Request, senderIp: SenderIp, body: Uint8Array, reason: string) {
  const preview = new TextDecoder().decode(body.subarray(0, maxBodyPreview * 4)).slice(0, maxBodyPreview).toWellFormed().replaceAll('\u0000', '\uFFFD')
  return { kind, reason, method: request.method, senderIp: senderIp(), bodyBytes: body.byteLength, bodyPreview: preview }
}

/** Counts a webhook request by outcome as it is answered (the error code of a refusal is its reason), in a span of its own while tracing is on. */
async function counted(receive: (span: Span | null) => Promise<Response>) {
  const endTimer = webhookIngestSeconds.startTimer()
  const span = startSpan('webhook ingest', SpanKind.SERVER, null)
  let outcome: string
  let reason = ''
  let status = 500
  try {
    const response = await receive(span)
    status = response.status
    outcome = response.status === 202 ? 'accepted' : handshakes.has(response) ? 'handshake' : 'duplicate'
    return response
  } catch (error) {
    status = error instanceof HttpError ? error.status : isDatabaseDown(error) ? 503 : 500
    outcome = status >= 500 ? 'failed' : 'rejected'
    reason = error instanceof HttpError ? error.code : isDatabaseDown(error) ? 'database_unavailable' : 'internal'
    throw error
  } finally {
    webhooksReceived.inc({ outcome: outcome!, reason })
    endTimer({ outcome: outcome! })
    endSpan(span, { 'zap.outcome': outcome!, 'http.response.status_code': status }, status >= 500)
  }
}

const jsonHeaders = { 'content-type': 'application/json' }
