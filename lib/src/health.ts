import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from 'postgres'
import { HttpError } from './errors.ts'
import { errorResponses, healthStatus } from './openapi.ts'

const probe = { tags: ['health'], security: [] }

export const health = (sql: Sql) =>
  new Elysia()
    .get('/healthz', () => ({ status: 'ok' }), {
      response: { 200: v.pipe(healthStatus, v.description('Up: {"status": "ok"}')) },
      detail: { operationId: 'checkLiveness', summary: 'The process is up', ...probe },
    })
    .get(
      '/readyz',
      async () => {
        try {
          await sql`select 1`
        } catch {
          throw new HttpError(503, 'database_unavailable', 'The database is unreachable')
        }
        return { status: 'ready' }
      },
      {
        response: { 200: v.pipe(healthStatus, v.description('Ready: {"status": "ready"}')), ...errorResponses(503) },
        detail: { operationId: 'checkReadiness', summary: 'The database answers', ...probe },
      },
    )
