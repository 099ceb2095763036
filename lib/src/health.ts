import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from 'postgres'
import { HttpError } from './errors.ts'
import { errorResponses, healthStatus } from './openapi.ts'
import type { Logger } from './log.ts'
import { trackOutage } from './outage.ts'
import { metrics } from './metrics.ts'
import { version } from './version.ts'

const liveness = v.object({ ...healthStatus.entries, version: v.pipe(v.string(), v.description("zap's version")) })

const probe = { tags: ['health'], security: [] }

// A readiness probe is answered within a second, whatever the database does.
const probeDeadlineMs = 750
const watchEveryMs = 2_000
// A loaded machine can take longer than the probe deadline to answer; only this long a silence is an outage.
const silentOutageMs = 5_000

export type DatabaseWatch = { check: () => Promise<boolean>; stop: () => void }

/**
 * Checks the database through `probeSql`, a client of its own (one connection), so a check never
 * waits behind the requests in the main pool; each check has a deadline. It also checks every two
 * seconds in the background, so an outage is logged once when it starts and once when it ends.
 */
export function watchDatabase(probeSql: Sql, log: Logger): DatabaseWatch {
  const outage = trackOutage(log, 'database')
  let inFlight: Promise<boolean> | null = null
  let askedAt = 0

  function check() {
    if (!inFlight) {
      askedAt = Date.now()
      inFlight = probeSql`select 1`.then(
        () => (outage.up(), true),
        (error) => (outage.down(error), false),
      ).finally(() => (inFlight = null))
    }
    const late = Bun.sleep(probeDeadlineMs).then(() => {
      if (Date.now() - askedAt >= silentOutageMs) outage.down(new Error(`no answer for ${silentOutageMs / 1000} s`))
      return false
    })
    return Promise.race([inFlight, late])
  }

  const timer = setInterval(check, watchEveryMs)
  timer.unref()
  return { check, stop: () => clearInterval(timer) }
}

export const health = (database: DatabaseWatch) =>
  new Elysia()
    .get('/healthz', () => ({ status: 'ok', version }), {
      response: { 200: v.pipe(liveness, v.description('Up: {"status": "ok", "version"}')) },
      detail: { operationId: 'checkLiveness', summary: 'The process is up', ...probe },
    })
    .get(
      '/readyz',
      async () => {
        if (!(await database.check())) throw new HttpError(503, 'database_unavailable', `The database did not answer within ${probeDeadlineMs} ms`)
        return { status: 'ready' }
      },
      {
        response: { 200: v.pipe(healthStatus, v.description('Ready: {"status": "ready"}')), ...errorResponses(503) },
        detail: { operationId: 'checkReadiness', summary: 'The database answers within 750 ms', ...probe },
      },
    )

/** `GET /metrics` in the Prometheus text format; an operator's endpoint, so not in the OpenAPI document. */
export const metricsRoute = new Elysia({ name: 'zap/metrics' }).get(
  '/metrics',
  async ({ set }) => {
    set.headers['content-type'] = metrics.contentType
    return metrics.metrics()
  },
  { detail: { hide: true } },
)
