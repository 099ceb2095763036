import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from '@zap/testkit/postgres'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'

let postgres: RunningPostgres
let service: RunningService
let zapId: string

beforeAll(async () => {
  postgres = await startPostgres()
  const sql = connect(postgres.url, { max: 1 })
  await migrate(sql)
  const user = await createUser(sql, { email: 'outage@example.com', name: 'Outage', passwordHash: 'x' })
  zapId = (await createZap(sql, user!.id, { name: 'outage', steps: [{ type: 'log', config: { message: 'hi' } }] })).id
  await sql.end()
  service = await startService('hooks', { DATABASE_URL: postgres.url })
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await postgres?.stop()
}, 30_000)

const post = () => fetch(`${service.url}/hooks/${zapId}`, { method: 'POST', body: '{"a":1}', headers: { 'content-type': 'application/json' } })

test('with PostgreSQL stopped hooks answers 503, never 2xx, and recovers without a restart', async () => {
  expect((await post()).status).toBe(202)
  await postgres.pause()
  const down = await post()
  expect(down.status).toBe(503)
  expect(((await down.json()) as { error: { code: string } }).error.code).toBe('database_unavailable')
  expect(down.headers.get('retry-after')).toBe('2')
  expect((await fetch(`${service.url}/readyz`)).status).toBe(503)
  expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
  await postgres.resume()
  await waitUntil(async () => (await post()).status === 202, 'hooks to accept again after PostgreSQL is back')
  const sql = connect(postgres.url, { max: 1 })
  expect(Number((await sql`select count(*) from runs`)[0]!.count)).toBe(2)
  await sql.end()
})
