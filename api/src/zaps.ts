import { Elysia } from 'elysia'
import type { Sql } from '@zap/sql/db'
import { createZap, deleteZap, findZap, listZaps, updateZap, type StoredZap } from '@zap/sql/zaps'
import { badRequest, conflict, notFound } from '@zap/lib/errors'
import { hasAlertSecret } from '@zap/sql/alerts'
import * as v from 'valibot'
import { createZapBody, rejectionKind, updateZapBody, webhookRejection, zap, type OnFailure } from '@zap/lib/resources'
import { listRejections, rejectionsKept } from '@zap/sql/rejections'
import { errorResponses } from '@zap/lib/openapi'
import { literalAddressOf, refusedRange, type TargetScope } from '@zap/lib/targets'
import { authenticated, type AuthOptions } from './auth.ts'
import { idParams, queryInteger } from './params.ts'
import { nextTicks, shortestInterval, type Schedule } from '@zap/lib/schedule'

const secured = { security: [{ bearer: [] }], tags: ['zaps'] }
const oneZap = (description: string) => v.pipe(v.object({ zap }), v.description(description))
// Every kept rejection of both kinds fits in one page.
const maxRejectionsListed = rejectionsKept.perZap * 2

export type ScheduleLimits = { minIntervalSeconds: number }

export const zapRoutes = (sql: Sql, auth: AuthOptions, hooksUrl: string, smtpConfigured: boolean, targetScope: TargetScope, scheduleLimits: ScheduleLimits) => {
  const present = (zap: StoredZap) => ({
    ...zap,
    nextRuns: zap.schedule && zap.enabled ? nextTicks(zap.schedule, new Date(), shownTicks) : [],
    webhookUrl: `${hooksUrl}/hooks/${zap.id}`,
  })
  const found = (zap: StoredZap | null) => {
    if (!zap) throw notFound('Zap')
    return { zap: present(zap) }
  }

  // Alerts need their way out set up first: an SMTP server for email, the user's signing secret for webhooks.
  async function requireAlertSetup(onFailure: OnFailure | null | undefined, userId: string) {
    if (onFailure?.email !== undefined && !smtpConfigured) {
      throw badRequest('onFailure.email: email alerts need an SMTP server; set SMTP_URL on the server', [{ path: 'onFailure.email', message: 'SMTP_URL is not configured' }])
    }
    if (onFailure?.webhook !== undefined && !(await hasAlertSecret(sql, userId))) {
      throw conflict('alert_secret_missing', 'Webhook alerts are signed with your alert secret: create it first with POST /api/v1/alerts/secret (zap alerts secret), then set onFailure.webhook')
    }
  }

  return new Elysia({ prefix: '/api/v1/zaps' })
    .use(authenticated(sql, auth))
    .post(
      '',
      async ({ userId, body, set }) => {
        requireSmtpFor(body.steps, smtpConfigured)
        requireReachableTargets(body, targetScope)
        requireOneVerify(body)
        await requireAlertSetup(body.onFailure, userId)
        const scheduleChange = scheduleChangeOf(body.schedule, scheduleLimits)
        set.status = 201
        return { zap: present(await createZap(sql, userId, body, scheduleChange)) }
      },
      {
        parse: 'json',
        body: createZapBody,
        response: { 201: oneZap('The new zap, version 1, with its webhook URL'), ...errorResponses(400, 401, 409, 413, 415) },
        detail: { operationId: 'createZap', summary: 'Create a zap', ...secured },
      },
    )
    .get('', async ({ userId }) => ({ zaps: (await listZaps(sql, userId)).map(present) }), {
      response: { 200: v.pipe(v.object({ zaps: v.array(zap) }), v.description('Your zaps, newest first')), ...errorResponses(401) },
      detail: { operationId: 'listZaps', summary: 'List your zaps', ...secured },
    })
    .get('/:id', async ({ userId, params }) => found(await findZap(sql, userId, params.id)), {
      params: idParams,
      response: { 200: oneZap('The zap with its current version’s steps'), ...errorResponses(400, 401, 404) },
      detail: { operationId: 'getZap', summary: 'Show a zap', ...secured },
    })
    .patch(
      '/:id',
      async ({ userId, params, body }) => {
        if (body.steps) requireSmtpFor(body.steps, smtpConfigured)
        requireReachableTargets(body, targetScope)
        requireOneVerify(body)
        await requireAlertSetup(body.onFailure, userId)
        return found(await updateZap(sql, userId, params.id, body, scheduleChangeOf(body.schedule, scheduleLimits)))
      },
      {
        parse: 'json',
        params: idParams,
        body: updateZapBody,
        response: { 200: oneZap('The changed zap'), ...errorResponses(400, 401, 404, 409, 413, 415) },
        detail: { operationId: 'updateZap', summary: 'Change a zap; new steps make a new version', ...secured },
      },
    )
    .get(
      '/:id/rejections',
      async ({ userId, params, query }) => {
        const rejections = await listRejections(sql, userId, params.id, { limit: query.limit ?? maxRejectionsListed, kind: query.kind })
        if (!rejections) throw notFound('Zap')
        return { rejections }
      },
      {
        params: idParams,
        query: v.object({
          limit: v.optional(queryInteger({ min: 1, max: maxRejectionsListed, fallback: maxRejectionsListed })),
          kind: v.optional(rejectionKind),
        }),
        response: {
          200: v.pipe(
            v.object({ rejections: v.array(webhookRejection) }),
            v.description(
              `Webhooks refused for a bad or missing signature, and subscription checks refused for a wrong verify token, newest first; ` +
                `the last ${rejectionsKept.perZap} of each kind within ${rejectionsKept.days} days are kept`,
            ),
          ),
          ...errorResponses(400, 401, 404),
        },
        detail: { operationId: 'listRejections', summary: 'List the webhooks this zap refused, and why', ...secured },
      },
    )
    .delete(
      '/:id',
      async ({ userId, params, set }) => {
        if (!(await deleteZap(sql, userId, params.id))) throw notFound('Zap')
        set.status = 204
      },
      {
        params: idParams,
        response: { 204: v.pipe(v.undefined(), v.description('Deleted')), ...errorResponses(400, 401, 404) },
        detail: { operationId: 'deleteZap', summary: 'Delete a zap; its webhook stops accepting', ...secured },
      },
    )
}

const shownTicks = 3

// A schedule's first tick is counted from now: a new or changed schedule never fires for the past.
function scheduleChangeOf(schedule: Schedule | null | undefined, limits: ScheduleLimits) {
  if (!schedule) return { nextTick: null }
  const interval = shortestInterval(schedule)
  if (interval < limits.minIntervalSeconds) {
    const message = `Ticks ${interval} s apart are too close: this server runs a schedule at most every ${limits.minIntervalSeconds} s (SCHEDULE_MIN_INTERVAL_SECONDS)`
    throw badRequest(`schedule.cron: ${message}`, [{ path: 'schedule.cron', message }])
  }
  const [nextTick] = nextTicks(schedule, new Date(), 1)
  if (!nextTick) throw badRequest('schedule.cron: this cron expression has no future tick', [{ path: 'schedule.cron', message: 'No future tick' }])
  return { nextTick }
}

function requireOneVerify(body: { secret?: unknown; verify?: unknown }) {
  if (body.secret !== undefined && body.verify !== undefined) {
    throw badRequest('Give verify or secret, not both: secret is shorthand for a standard-webhooks verify', [{ path: 'secret', message: 'Given together with verify' }])
  }
}

// Only URLs that name an address outright (an IP, localhost) are checked here; a name is resolved, and checked, when the step runs.
function requireReachableTargets(body: { steps?: { type: string; config: unknown }[]; onFailure?: OnFailure | null }, scope: TargetScope) {
  const urls = (body.steps ?? []).flatMap((step, index) =>
    step.type === 'http' ? [{ path: `steps.${index}.config.url`, url: (step.config as { url: string }).url }] : [],
  )
  if (body.onFailure?.webhook !== undefined) urls.push({ path: 'onFailure.webhook', url: body.onFailure.webhook })
  for (const { path, url } of urls) {
    if (url.includes('{{') || !URL.canParse(url)) continue
    const address = literalAddressOf(new URL(url))
    const range = address && refusedRange(address, scope)
    if (!range) continue
    const reason = `${new URL(url).hostname} is a ${range} address, which this server's steps may not call`
    throw badRequest(`${path}: ${reason} (ALLOW_PRIVATE_TARGETS=true on the api and workers allows it, for local testing)`, [{ path, message: reason }])
  }
}

function requireSmtpFor(zapSteps: { type: string }[], smtpConfigured: boolean) {
  const index = zapSteps.findIndex((step) => step.type === 'email')
  if (index !== -1 && !smtpConfigured) {
    const path = `steps.${index}.type`
    throw badRequest(`${path}: email steps need an SMTP server; set SMTP_URL on the server`, [{ path, message: 'SMTP_URL is not configured' }])
  }
}
