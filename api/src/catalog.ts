import { Elysia } from 'elysia'
import * as v from 'valibot'
import { step, stepDescriptions } from '@zap/lib/steps'
import { catalogEntry, verifySchemeEntry } from '@zap/lib/resources'
import { verifySchemes } from '@zap/lib/verify'
import { jsonSchemaOf } from '@zap/lib/openapi'

const catalog = step.options.map((option) => {
  const type = option.entries.type.literal
  return { type, description: stepDescriptions[type], config: jsonSchemaOf(option.entries.config) as Record<string, unknown> }
})

const schemes = verifySchemes.map(({ scheme, description, setting }) => ({ scheme, description, setting: jsonSchemaOf(setting) as Record<string, unknown> }))

export const catalogRoutes = new Elysia({ prefix: '/api/v1' }).get('/catalog', () => ({ steps: catalog, verifySchemes: schemes }), {
  response: {
    200: v.pipe(
      v.object({ steps: v.array(catalogEntry), verifySchemes: v.array(verifySchemeEntry) }),
      v.description('Every step type with the JSON Schema of its config, and every webhook verification scheme with the JSON Schema of its setting'),
    ),
  },
  detail: { operationId: 'listStepTypes', summary: 'The step types and verification schemes, with the JSON schema of their settings', tags: ['catalog'], security: [] },
})
