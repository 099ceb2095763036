import { Elysia } from 'elysia'
import { openapi, type ElysiaOpenAPIConfig } from '@elysiajs/openapi'
import { toJsonSchema } from '@valibot/to-json-schema'
import * as v from 'valibot'
import { dirname, join } from 'node:path'
import { apiError } from './resources.ts'

type Document = {
  info: { title: string; version: string; description: string }
  tags: { name: string; description: string }[]
  components?: Record<string, unknown>
  paths?: Record<string, unknown>
}

type Operation = {
  operationId?: string
  requestBody?: { required?: boolean; content?: Record<string, unknown> }
  responses?: Record<string, { description: string; content?: Record<string, unknown> }>
  [key: string]: unknown
}

/** The JSON Schema of a valibot schema as the OpenAPI document shows it: Dates are ISO 8601 strings. */
export function jsonSchemaOf(schema: v.GenericSchema) {
  const { $schema, ...jsonSchema } = toJsonSchema(schema, {
    target: 'draft-2020-12',
    errorMode: 'ignore',
    overrideSchema: ({ valibotSchema }: { valibotSchema: { type: string } }) => (valibotSchema.type === 'date' ? { type: 'string', format: 'date-time' } : undefined),
  })
  return jsonSchema
}

type ErrorStatus = 400 | 401 | 404 | 409 | 413 | 415 | 429 | 503

const errorDescriptions: Record<ErrorStatus, string> = {
  400: 'Invalid input; `details` names each wrong field',
  401: 'Missing, invalid or expired bearer token (or a bad webhook signature)',
  404: 'Not found, or not yours',
  409: 'Conflicts with the current state',
  413: 'The body is larger than the limit',
  415: 'The body is not JSON (send Content-Type: application/json)',
  429: 'Too many requests; retry after the Retry-After header',
  503: 'The database is unreachable; retry shortly',
}

/** `{ error: { code, message, details? } }` responses for the given statuses, for a route's `response`. */
export function errorResponses<const Status extends ErrorStatus>(...statuses: Status[]) {
  return Object.fromEntries(statuses.map((status) => [status, describedError(status)])) as Record<Status, ReturnType<typeof describedError>>
}

const describedError = (status: ErrorStatus) => v.pipe(apiError, v.description(errorDescriptions[status]))

/** `{ status }` answers of the health routes. */
export const healthStatus = v.object({ status: v.string() })

/**
 * Serves `/openapi.json` and a docs page at `/docs` (Swagger UI from the installed package, no CDN). `optionalBodies` gives, by operationId, the JSON body of
 * routes that may be sent without one: such a route cannot say `parse: 'json'`, which is how the others get
 * their body documented.
 */
export const openapiDocs = (document: Document, { optionalBodies = {} }: { optionalBodies?: Record<string, v.GenericSchema> } = {}) =>
  new Elysia({ name: 'zap/openapi' })
    .onAfterHandle({ as: 'global' }, ({ route, response }) => {
      if (route !== '/openapi.json') return
      const { paths } = response as { paths: Record<string, Record<string, Operation>> }
      for (const operation of Object.values(paths).flatMap((item) => Object.values(item))) tidy(operation, optionalBodies)
    })
    .get('/docs/swagger-ui.css', () => docsAsset('swagger-ui.css', 'text/css; charset=utf-8'), { detail: { hide: true } })
    .get('/docs/swagger-ui-bundle.js', () => docsAsset('swagger-ui-bundle.js', 'text/javascript; charset=utf-8'), { detail: { hide: true } })
    .use(
      openapi({
        path: '/docs',
        specPath: '/openapi.json',
        // The page's script and style come from the installed swagger-ui-dist, so the docs work without internet access.
        provider: 'swagger-ui',
        swagger: { theme: '/docs/swagger-ui.css', cdn: '/docs/swagger-ui-bundle.js', validatorUrl: 'none', displayOperationId: true },
        mapJsonSchema: { valibot: jsonSchemaOf },
        // Plain objects in, so hand-written paths need not spell the plugin's OpenAPI types.
        documentation: { ...document, servers: [{ url: '/', description: 'The server that serves this document' }] } as ElysiaOpenAPIConfig['documentation'],
      }),
    )

const swaggerUiDir = dirname(Bun.resolveSync('swagger-ui-dist/package.json', import.meta.dir))

const docsAsset = (name: string, contentType: string) =>
  new Response(Bun.file(join(swaggerUiDir, name)), { headers: { 'content-type': contentType, 'cache-control': 'public, max-age=86400' } })

function tidy(operation: Operation, optionalBodies: Record<string, v.GenericSchema>) {
  const optional = optionalBodies[operation.operationId ?? '']
  if (optional) operation.requestBody = { required: false, content: { 'application/json': { schema: jsonSchemaOf(optional) } } }
  const noContent = operation.responses?.[204]
  if (noContent) delete noContent.content
}
