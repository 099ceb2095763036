import { Elysia } from 'elysia'
import * as v from 'valibot'
import type { Sql } from 'postgres'
import { HttpError } from './errors.ts'
import { errorResponses, healthStatus } from './openapi.ts'
import type { Logger } from './log.ts'
import { trackOutage } from './outage.ts'
import { databaseSetupProblem } from './database.ts'
import { metrics } from './metrics.ts'
import { version } from './version.ts'

const liveness = v.object({ ...healthStatus.entries, version: v.pipe(v.string(), v.description("zap's version")) })

const probe = { tags: ['health'], security: [] }

// A readiness probe is answered within a second, whatever the database does.
const probeDeadlineMs = 750
const watchEveryMs = 2_000
const watchDownEveryMs = 250
// A loaded machine can take longer than the probe deadline to answer; only this long a silence is an outage.
const silentOutageMs = 5_000

export type DatabaseWatch = {
  check: () => Promise<boolean>
  /** True while the last check failed: a caller may answer at once instead of waiting on the pool. */
  isDown: () => boolean
  /** Why the database is not ready, for a person (a setup step such as running the migrations), or null. */
  problem: () => string | null
  stop: () => void
}

/** Something besides the database a service needs before it is ready (a loop, a broker): why it is not, or null. */
export type Readiness = () => string | null

/**
 * Checks the database through `probeSql`, a client of its own (one connection), so a check never
 * waits behind the requests in the main pool; each check has a deadline. It also checks in the
 * background (every two seconds, four times a second during an outage), so an outage is logged once
 * when it starts and once when it ends, and is seen to end within a moment. The check reads the
 * migrations table: a database that was never migrated is not ready either.
 */
export function watchDatabase(probeSql: Sql, log: Logger): DatabaseWatch {
  const outage = trackOutage(log, 'database')
  let inFlight: Promise<boolean> | null = null
  let askedAt = 0
  let problem: string | null = null
  let stopped = false

  function check() {
    if (!inFlight) {
      askedAt = Date.now()
      inFlight = probeSql`select 1 from schema_migrations limit 1`.then(
        () => ((problem = null), outage.up(), true),
        (error) => ((problem = databaseSetupProblem(error)), outage.down(error), false),
      ).finally(() => (inFlight = null))
    }
    const late = Bun.sleep(probeDeadlineMs).then(() => {
      if (Date.now() - askedAt >= silentOutageMs) outage.down(new Error(`no answer for ${silentOutageMs / 1000} s`))
      return false
    })
    return Promise.race([inFlight, late])
  }

  let timer: ReturnType<typeof setTimeout>
  const watch = () => {
    if (stopped) return
    timer = setTimeout(() => void check().finally(watch), outage.isDown() ? watchDownEveryMs : watchEveryMs)
    timer.unref()
  }
  watch()
  return {
    check,
    isDown: outage.isDown,
    problem: () => problem,
    stop: () => {
      stopped = true
      clearTimeout(timer)
    },
  }
}

export const health = (database: DatabaseWatch, readiness: Readiness = () => null) =>
  new Elysia()
    .get('/healthz', () => ({ status: 'ok', version }), {
      response: { 200: v.pipe(liveness, v.description('Up: {"status": "ok", "version"}')) },
      detail: { operationId: 'checkLiveness', summary: 'The process is up', ...probe },
    })
    .get(
      '/readyz',
      async () => {
        if (!(await database.check())) {
          const problem = database.problem()
          if (problem) throw new HttpError(503, 'database_not_ready', `The database is not ready: ${problem}`)
          throw new HttpError(503, 'database_unavailable', `The database did not answer within ${probeDeadlineMs} ms`)
        }
        const notReady = readiness()
        if (notReady) throw new HttpError(503, 'not_ready', notReady)
        return { status: 'ready' }
      },
      {
        response: { 200: v.pipe(healthStatus, v.description('Ready: {"status": "ready"}')), ...errorResponses(503) },
        detail: { operationId: 'checkReadiness', summary: 'The database answers within 750 ms, is migrated, and every loop of the service runs', ...probe },
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
