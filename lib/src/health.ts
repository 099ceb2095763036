import { Elysia } from 'elysia'
import type { Sql } from 'postgres'
import { HttpError } from './errors.ts'

export const health = (sql: Sql) =>
  new Elysia()
    .get('/healthz', () => ({ status: 'ok' }))
    .get('/readyz', async () => {
      try {
        await sql`select 1`
      } catch {
        throw new HttpError(503, 'database_unavailable', 'The database is unreachable')
      }
      return { status: 'ready' }
    })
