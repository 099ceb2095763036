import { Elysia } from 'elysia'
import type { Sql } from '@zap/sql/db'
import { acceptRun } from '@zap/sql/runs'
import type { Trigger } from '@zap/lib/resources'
import { outboxNotifier } from '@zap/sql/outbox'
import { HttpError, notFound } from '@zap/lib/errors'
import { requestHandling } from '@zap/lib/http'
import type { Logger } from '@zap/lib/log'
import { health } from '@zap/lib/health'
import { openapiDocs } from '@zap/lib/openapi'
import { isUuid } from '@zap/lib/ids'
import { readLimitedBody } from '@zap/lib/body'
import { decodeBody, requireStorable } from './body.ts'
import { verifySignature } from './signature.ts'
import { hooksDocument } from './document.ts'
import { webhookLimits } from './limits.ts'
import type { RateLimit } from '@zap/sql/rate-limits'

export type HooksOptions = { sql: Sql; maxBodyBytes: number; maxJsonDepth: number; webhookRateLimit: RateLimit; log: Logger }

export function createHooks({ sql, maxBodyBytes, maxJsonDepth, webhookRateLimit, log }: HooksOptions) {
  const wakeRelays = outboxNotifier(sql)
  const limitWebhook = webhookLimits(sql, webhookRateLimit)

  async function receive(request: Request, zapId: string, ownerId?: string) {
    if (!isUuid(zapId) || (ownerId !== undefined && !isUuid(ownerId))) throw notFound('Zap')
    await limitWebhook(zapId)
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
    const input = { zapId, ownerId, trigger, idempotencyKey, signatureVerified: false }
    let result = await acceptRun(sql, input)
    if (result.outcome === 'needs_signature') {
      const signatureHeaders = { id: headers.get('webhook-id'), timestamp: headers.get('webhook-timestamp'), signature: headers.get('webhook-signature') }
      const problem = verifySignature(result.secret, signatureHeaders, bytes)
      if (problem) throw new HttpError(401, 'invalid_signature', problem)
      result = await acceptRun(sql, { ...input, signatureVerified: true })
    }
    switch (result.outcome) {
      case 'accepted':
        wakeRelays()
        return new Response(JSON.stringify({ runId: result.runId, ...(result.debouncedInto ? { debouncedInto: result.debouncedInto } : {}) }), { status: 202, headers: jsonHeaders })
      case 'duplicate':
        return new Response(JSON.stringify({ runId: result.runId, duplicate: true }), { status: 200, headers: jsonHeaders })
      case 'disabled':
        throw new HttpError(409, 'zap_disabled', 'This zap is disabled; enable it to accept webhooks')
      default:
        throw notFound('Zap')
    }
  }

  const byZap = ({ request, params }: { request: Request; params: { zapId: string } }) => receive(request, params.zapId)
  const byOwner = ({ request, params }: { request: Request; params: { userId: string; zapId: string } }) =>
    receive(request, params.zapId, params.userId)

  return new Elysia()
    .use(requestHandling(log))
    .use(openapiDocs(hooksDocument))
    .use(health(sql))
    .post('/hooks/:zapId', byZap, { parse: 'none' })
    .put('/hooks/:zapId', byZap, { parse: 'none' })
    .patch('/hooks/:zapId', byZap, { parse: 'none' })
    .post('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
    .put('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
    .patch('/hooks/catch/:userId/:zapId', byOwner, { parse: 'none' })
}

const maxIdempotencyKeyBytes = 255

const jsonHeaders = { 'content-type': 'application/json' }
