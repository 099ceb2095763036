import { Elysia } from 'elysia'
import { toJsonSchema } from '@valibot/to-json-schema'
import { step, stepDescriptions } from '@zap/lib/steps'

const catalog = step.options.map((option) => {
  const type = option.entries.type.literal
  return { type, description: stepDescriptions[type], config: toJsonSchema(option.entries.config, { errorMode: 'ignore' }) }
})

export const catalogRoutes = new Elysia({ prefix: '/api/v1' }).get('/catalog', () => ({ steps: catalog }), {
  detail: { summary: 'The step types and the JSON schema of their config', tags: ['catalog'] },
})
