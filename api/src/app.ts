import { Elysia } from 'elysia'
import { withDeadline, type Sql } from '@zap/sql/db'
import { databaseUnavailable } from '@zap/lib/errors'
import { requestHandling } from '@zap/lib/http'
import type { Logger } from '@zap/lib/log'
import { health, metricsRoute, type DatabaseWatch } from '@zap/lib/health'
import { openapiDocs } from '@zap/lib/openapi'
import { replayRunBody } from '@zap/lib/resources'
import { authRoutes, type AuthOptions, type AuthRateLimits } from './auth.ts'
import { jsonBodies, type BodyLimits } from './body.ts'
import { alertRoutes } from './alerts.ts'
import { catalogRoutes } from './catalog.ts'
import { runRoutes } from './runs.ts'
import { statusRoutes } from './status.ts'
import { zapRoutes, type ScheduleLimits } from './zaps.ts'
import type { TargetScope } from '@zap/lib/targets'

export type ApiOptions = {
  sql: Sql
  database: DatabaseWatch
  databaseTimeoutMs: number
  auth: AuthOptions
  hooksUrl: string
  smtpConfigured: boolean
  targetScope: TargetScope
  log: Logger
  bodyLimits: BodyLimits
  rateLimits: AuthRateLimits
  scheduleLimits: ScheduleLimits
  /** The level of each request's line: `debug` in a person's terminal under `bun run dev`, where the CLI's own requests and polls are noise. */
  requestLogLevel?: 'info' | 'debug'
}

/**
 * The API's routes. Each database call waits at most `databaseTimeoutMs`, and none is tried while the
 * database is known to be away: the request is answered 503 with Retry-After instead.
 */
export function createApi({ sql: pool, database, databaseTimeoutMs, auth, hooksUrl, smtpConfigured, targetScope, log, bodyLimits, rateLimits, scheduleLimits, requestLogLevel = 'info' }: ApiOptions) {
  const sql = withDeadline(pool, databaseTimeoutMs, () => (database.isDown() ? databaseUnavailable(database.problem()) : null))
  return new Elysia()
    .use(requestHandling(log, { countRequests: true, lineLevel: requestLogLevel }))
    .use(jsonBodies(bodyLimits))
    .use(
      openapiDocs(
        {
          info: { title: 'zap API', version: '1.0.0', description: 'Webhook-triggered automations: zaps, runs and replays. Webhooks themselves go to the hooks service, which serves its own /openapi.json.' },
          tags: [
            { name: 'auth', description: 'Accounts and bearer tokens' },
            { name: 'catalog', description: 'The step types a zap can use' },
            { name: 'zaps', description: 'A webhook and its steps; changing the steps makes a new version' },
            { name: 'runs', description: 'One execution of a zap per accepted webhook, and replays of failed runs' },
            { name: 'alerts', description: 'Failure alerts: the secret that signs their webhooks' },
            { name: 'health', description: 'Liveness and readiness probes' },
          ],
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT', description: 'The token from signUp or logIn' } } },
        },
        { optionalBodies: { replayRun: replayRunBody } },
      ),
    )
    .use(health(database))
    .use(metricsRoute)
    .use(authRoutes(sql, auth, rateLimits))
    .use(catalogRoutes)
    .use(zapRoutes(sql, auth, hooksUrl, smtpConfigured, targetScope, scheduleLimits))
    .use(runRoutes(sql, auth))
    .use(alertRoutes(sql, auth))
    .use(statusRoutes(sql, auth))
}
