import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { userStatus } from '@zap/sql/status'
import { statusSummary } from '@zap/lib/resources'
import { errorResponses } from '@zap/lib/openapi'
import { authenticated, type AuthOptions } from './auth.ts'

export const statusRoutes = (sql: Sql, auth: AuthOptions) =>
  new Elysia({ prefix: '/api/v1' }).use(authenticated(sql, auth)).get('/status', async ({ userId }) => ({ status: await userStatus(sql, userId) }), {
    response: {
      200: v.pipe(v.object({ status: statusSummary }), v.description('How your runs are doing: counts by status, the oldest queued run, failures by zap')),
      ...errorResponses(401),
    },
    detail: { operationId: 'getStatus', summary: 'How your runs are doing (the last hour and day)', tags: ['runs'], security: [{ bearer: [] }] },
  })
