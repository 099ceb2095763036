import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { findRun, listRuns } from '@zap/sql/runs'
import { replayFailedRuns, replayRun } from '@zap/sql/replays'
import { outboxNotifier } from '@zap/sql/outbox'
import { notFound } from '@zap/lib/errors'
import { replayFailedRunsBody, replayRunBody, runStatus } from '@zap/lib/resources'
import { authenticated, type AuthOptions } from './auth.ts'
import { idParams, uuid } from './params.ts'

const listQuery = v.object({
  zapId: v.optional(uuid),
  status: v.optional(runStatus),
  limit: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(500)), '50'),
  cursor: v.optional(uuid),
})

const replayBody = v.optional(replayRunBody, {})

const secured = { security: [{ bearer: [] }], tags: ['runs'] }

export const runRoutes = (sql: Sql, auth: AuthOptions) => {
  const wakeRelays = outboxNotifier(sql)
  return new Elysia({ prefix: '/api/v1/runs' })
    .use(authenticated(auth))
    .get('/', ({ userId, query }) => listRuns(sql, userId, query), {
      query: listQuery,
      detail: { summary: 'List your runs, newest first', ...secured },
    })
    .get(
      '/:id',
      async ({ userId, params }) => {
        const run = await findRun(sql, userId, params.id)
        if (!run) throw notFound('Run')
        return { run }
      },
      { params: idParams, detail: { summary: 'Show a run with its steps and earlier executions', ...secured } },
    )
    .post(
      '/replay',
      async ({ userId, body }) => {
        const result = await replayFailedRuns(sql, userId, body)
        if (result.queued > 0) wakeRelays()
        return result
      },
      { body: replayFailedRunsBody, detail: { summary: 'Replay every matching failed run from its failed step', ...secured } },
    )
    .post(
      '/:id/replay',
      async ({ userId, params, body, set }) => {
        const replay = await sql.begin((tx) => replayRun(tx, { runId: params.id, userId, from: body.from, version: body.version, cause: 'manual' }))
        wakeRelays()
        set.status = 202
        return { replay }
      },
      { params: idParams, body: replayBody, detail: { summary: 'Replay a failed run, by default from its failed step on the latest version', ...secured } },
    )
}
