import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { findRun, listRuns } from '@zap/sql/runs'
import { notFound } from '@zap/lib/errors'
import { authenticated, type AuthOptions } from './auth.ts'
import { idParams, uuid } from './params.ts'

const listQuery = v.object({
  zapId: v.optional(uuid),
  status: v.optional(v.picklist(['queued', 'running', 'succeeded', 'failed'])),
  limit: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(500)), '50'),
  cursor: v.optional(uuid),
})

const secured = { security: [{ bearer: [] }], tags: ['runs'] }

export const runRoutes = (sql: Sql, auth: AuthOptions) =>
  new Elysia({ prefix: '/api/v1/runs' })
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
      { params: idParams, detail: { summary: 'Show a run with its steps', ...secured } },
    )
