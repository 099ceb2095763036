import { Elysia } from 'elysia'
import { openapi } from '@elysiajs/openapi'
import { toJsonSchema } from '@valibot/to-json-schema'
import type { Sql } from '@zap/sql/db'
import { requestHandling } from '@zap/lib/http'
import type { Logger } from '@zap/lib/log'
import { health } from '@zap/lib/health'
import { authRoutes, type AuthOptions } from './auth.ts'
import { catalogRoutes } from './catalog.ts'
import { runRoutes } from './runs.ts'
import { zapRoutes } from './zaps.ts'

export type ApiOptions = { sql: Sql; auth: AuthOptions; hooksUrl: string; smtpConfigured: boolean; log: Logger }

export const createApi = ({ sql, auth, hooksUrl, smtpConfigured, log }: ApiOptions) =>
  new Elysia()
    .use(requestHandling(log))
    .use(
      openapi({
        path: '/docs',
        specPath: '/openapi.json',
        mapJsonSchema: { valibot: (schema: never) => toJsonSchema(schema, { errorMode: 'ignore' }) },
        documentation: {
          info: { title: 'zap API', version: '1.0.0', description: 'Webhook-triggered automations: zaps, runs and replays' },
          components: { securitySchemes: { bearer: { type: 'http', scheme: 'bearer', bearerFormat: 'JWT' } } },
        },
      }),
    )
    .use(health(sql))
    .use(authRoutes(sql, auth))
    .use(catalogRoutes)
    .use(zapRoutes(sql, auth, hooksUrl, smtpConfigured))
    .use(runRoutes(sql, auth))
