import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { findRun, listRuns } from '@zap/sql/runs'
import { replayFailedRuns, replayRun, type ReplayRefusal } from '@zap/sql/replays'
import { outboxNotifier } from '@zap/sql/outbox'
import { conflict, notFound } from '@zap/lib/errors'
import { bulkReplay, replay, replayFailedRunsBody, replayRunBody, run, runStatus, runSummary } from '@zap/lib/resources'
import { errorResponses } from '@zap/lib/openapi'
import { authenticated, type AuthOptions } from './auth.ts'
import { idParams, queryInteger, uuid } from './params.ts'

const defaultLimit = 50

const listQuery = v.object({
  zapId: v.optional(uuid),
  status: v.optional(runStatus),
  limit: v.optional(queryInteger({ min: 1, max: 500, fallback: defaultLimit })),
  cursor: v.optional(uuid),
})

const replayBody = v.optional(replayRunBody, {})

const secured = { security: [{ bearer: [] }], tags: ['runs'] }

export const runRoutes = (sql: Sql, auth: AuthOptions) => {
  const wakeRelays = outboxNotifier(sql)
  return new Elysia({ prefix: '/api/v1/runs' })
    .use(authenticated(sql, auth))
    .get('', ({ userId, query }) => listRuns(sql, userId, { ...query, limit: query.limit ?? defaultLimit }), {
      query: listQuery,
      response: {
        200: v.pipe(
          v.object({ runs: v.array(runSummary), nextCursor: v.pipe(v.nullable(v.string()), v.description('Pass as cursor for the next page; null on the last')) }),
          v.description('A page of your runs, newest first'),
        ),
        ...errorResponses(400, 401),
      },
      detail: { operationId: 'listRuns', summary: 'List your runs, newest first', ...secured },
    })
    .get(
      '/:id',
      async ({ userId, params }) => {
        const found = await findRun(sql, userId, params.id)
        if (!found) throw notFound('Run')
        return { run: found }
      },
      {
        params: idParams,
        response: { 200: v.pipe(v.object({ run }), v.description('The run with every step and its earlier executions')), ...errorResponses(400, 401, 404) },
        detail: { operationId: 'getRun', summary: 'Show a run with its steps and earlier executions', ...secured },
      },
    )
    .post(
      '/replay',
      async ({ userId, body }) => {
        const { queued, skipped } = await replayFailedRuns(sql, userId, body)
        if (queued > 0) wakeRelays()
        return { queued, skipped: skipped.map(({ runId, refusal }) => ({ runId, reason: refusalError(refusal).message })) }
      },
      {
        parse: 'json',
        body: replayFailedRunsBody,
        response: { 200: v.pipe(bulkReplay, v.description('How many runs were queued, and why the others were skipped')), ...errorResponses(400, 401, 413, 415) },
        detail: { operationId: 'replayFailedRuns', summary: 'Replay every matching failed run from its failed step', ...secured },
      },
    )
    .post(
      '/:id/replay',
      async ({ userId, params, body, set }) => {
        const outcome = await sql.begin((tx) => replayRun(tx, { runId: params.id, userId, from: body.from, version: body.version, cause: 'manual' }))
        if (outcome.kind !== 'replayed') throw refusalError(outcome)
        wakeRelays()
        set.status = 202
        const { kind, ...queued } = outcome
        return { replay: queued }
      },
      {
        params: idParams,
        body: replayBody,
        response: { 202: v.pipe(v.object({ replay }), v.description('The replay is queued')), ...errorResponses(400, 401, 404, 409, 413, 415) },
        detail: { operationId: 'replayRun', summary: 'Replay a failed run, by default from its failed step on the latest version', ...secured },
      },
    )
}

function refusalError(refusal: ReplayRefusal) {
  switch (refusal.kind) {
    case 'unknown_run':
      return notFound('Run')
    case 'not_failed':
      return conflict('run_not_failed', `Only failed runs can be replayed; this run is ${refusal.status}`)
    case 'zap_deleted':
      return conflict('zap_deleted', 'The zap was deleted; replay with version "pinned" instead')
    case 'too_few_steps':
      return conflict(
        'replay_not_applicable',
        `The run failed at step ${refusal.failedStep} but version ${refusal.version} has only ${refusal.stepCount} steps; replay from the trigger instead`,
      )
  }
}
