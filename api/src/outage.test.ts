import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { startPostgres, type RunningPostgres } from '@zap/testkit/postgres'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'

let postgres: RunningPostgres
let service: RunningService
let token: string

beforeAll(async () => {
  postgres = await startPostgres()
  const sql = connect(postgres.url, { max: 1 })
  await migrate(sql)
  await sql.end()
  service = await startService('api', { DATABASE_URL: postgres.url, API_DATABASE_TIMEOUT_MS: '1000' })
  const response = await fetch(`${service.url}/api/v1/auth/signup`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ email: 'outage@example.com', name: 'Outage', password: 'correct horse battery' }),
  })
  token = ((await response.json()) as { token: string }).token
}, 60_000)

afterAll(async () => {
  await service?.stop()
  await postgres?.stop()
}, 30_000)

async function listZaps() {
  const startedAt = performance.now()
  const response = await fetch(`${service.url}/api/v1/zaps`, { headers: { authorization: `Bearer ${token}` } })
  const body = (await response.json()) as { error?: { code: string } }
  return { status: response.status, code: body.error?.code, retryAfter: response.headers.get('retry-after'), ms: performance.now() - startedAt }
}

test('with PostgreSQL stopped the API answers 503 with Retry-After at once, and recovers without a restart', async () => {
  expect((await listZaps()).status).toBe(200)
  await postgres.pause()
  const down = await listZaps()
  expect(down).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: '2' })
  expect(down.ms).toBeLessThan(3_000)
  const ready = await fetch(`${service.url}/readyz`)
  expect(ready.status).toBe(503)
  expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
  await postgres.resume()
  await waitUntil(async () => (await listZaps()).status === 200, 'the API to answer again after PostgreSQL is back')
}, 60_000)

test('with PostgreSQL frozen the API answers 503 with Retry-After within its database deadline, and recovers without a restart', async () => {
  expect((await listZaps()).status).toBe(200)
  postgres.freeze()
  try {
    const answers = await Promise.all(Array.from({ length: 4 }, () => listZaps()))
    for (const answer of answers) {
      expect(answer).toMatchObject({ status: 503, code: 'database_unavailable', retryAfter: '2' })
      // API_DATABASE_TIMEOUT_MS is 1 s here; a request without a deadline waited as long as the freeze.
      expect(answer.ms).toBeLessThan(4_000)
    }
  } finally {
    postgres.thaw()
  }
  await waitUntil(async () => (await listZaps()).status === 200, 'the API to answer again after PostgreSQL thaws')
}, 60_000)
