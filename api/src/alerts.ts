import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { rotateAlertSecret } from '@zap/sql/alerts'
import { alertSecret } from '@zap/lib/resources'
import { errorResponses } from '@zap/lib/openapi'
import { authenticated, type AuthOptions } from './auth.ts'

export const alertRoutes = (sql: Sql, auth: AuthOptions) =>
  new Elysia({ prefix: '/api/v1/alerts' }).use(authenticated(sql, auth)).post(
    '/secret',
    async ({ userId, set }) => {
      set.status = 201
      return { secret: await rotateAlertSecret(sql, userId) }
    },
    {
      response: {
        201: v.pipe(alertSecret, v.description('The new secret; failure alerts are signed with it from now on, and it is not shown again')),
        ...errorResponses(401),
      },
      detail: {
        operationId: 'rotateAlertSecret',
        summary: 'Make (or replace) the secret that signs your failure alert webhooks',
        description: 'Alerts carry Standard Webhooks headers (webhook-id, webhook-timestamp, webhook-signature); verify them with any Standard Webhooks library and this secret.',
        tags: ['alerts'],
        security: [{ bearer: [] }],
      },
    },
  )
