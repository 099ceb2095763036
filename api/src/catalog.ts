import { Elysia } from 'elysia'
import * as v from 'valibot'
import { step, stepDescriptions } from '@zap/lib/steps'
import { catalogEntry } from '@zap/lib/resources'
import { jsonSchemaOf } from '@zap/lib/openapi'

const catalog = step.options.map((option) => {
  const type = option.entries.type.literal
  return { type, description: stepDescriptions[type], config: jsonSchemaOf(option.entries.config) as Record<string, unknown> }
})

export const catalogRoutes = new Elysia({ prefix: '/api/v1' }).get('/catalog', () => ({ steps: catalog }), {
  response: { 200: v.pipe(v.object({ steps: v.array(catalogEntry) }), v.description('Every step type with the JSON Schema of its config')) },
  detail: { operationId: 'listStepTypes', summary: 'The step types and the JSON schema of their config', tags: ['catalog'], security: [] },
})
