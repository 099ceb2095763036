import { describe, expect, test } from 'bun:test'
import { api, call, signUp } from '@zap/testkit/http'

const logStep = { type: 'log', config: { message: 'hi' } }
const httpStep = (rateLimit: unknown) => ({ type: 'http', config: { url: 'https://example.com/in', rateLimit } })

describe('flow control settings', () => {
  test('concurrency, debounce and an http rate limit are stored, shown, changed and removed', async () => {
    const { token } = await signUp()
    const body = {
      name: 'limited',
      steps: [httpStep({ requests: 10, perSeconds: 1, group: 'crm' })],
      concurrency: { limit: 2, key: '{{trigger.body.customer_id}}' },
      debounce: { waitSeconds: 5, maxWaitSeconds: 60, key: 'order-{{trigger.body.order.id}}' },
    }
    const created = await call(api, 'POST', '/api/v1/zaps', { token, body })
    expect(created.status).toBe(201)
    expect(created.body.zap).toMatchObject({ concurrency: body.concurrency, debounce: body.debounce, steps: body.steps })
    const changed = await call(api, 'PATCH', `/api/v1/zaps/${created.body.zap.id}`, { token, body: { concurrency: { limit: 1 }, debounce: null } })
    expect(changed.status).toBe(200)
    expect(changed.body.zap).toMatchObject({ concurrency: { limit: 1 }, debounce: null, version: 1 })
    const shown = await call(api, 'GET', `/api/v1/zaps/${created.body.zap.id}`, { token })
    expect(shown.body.zap.concurrency).toEqual({ limit: 1 })
  })

  const invalid: [string, Record<string, unknown>, string][] = [
    ['a concurrency limit of 0', { concurrency: { limit: 0 } }, 'concurrency.limit'],
    ['a concurrency limit over 1000', { concurrency: { limit: 1001 } }, 'concurrency.limit'],
    ['a key that references a step', { concurrency: { limit: 1, key: '{{steps.0.output.id}}' } }, 'concurrency.key'],
    ['an unclosed key template', { concurrency: { limit: 1, key: '{{trigger.body.id' } }, 'concurrency.key'],
    ['an unknown concurrency field', { concurrency: { limit: 1, per: 'x' } }, 'concurrency'],
    ['a debounce without waitSeconds', { debounce: { maxWaitSeconds: 5 } }, 'debounce.waitSeconds'],
    ['a debounce wait over an hour', { debounce: { waitSeconds: 3601 } }, 'debounce.waitSeconds'],
    ['a maxWaitSeconds shorter than waitSeconds', { debounce: { waitSeconds: 10, maxWaitSeconds: 5 } }, 'debounce'],
    ['a rate limit of 0 requests', { steps: [httpStep({ requests: 0, perSeconds: 1 })] }, 'steps.0.config.rateLimit.requests'],
    ['a rate limit without a period', { steps: [httpStep({ requests: 5 })] }, 'steps.0.config.rateLimit.perSeconds'],
    ['a rate limit group with spaces', { steps: [httpStep({ requests: 5, perSeconds: 1, group: 'my group' })] }, 'steps.0.config.rateLimit.group'],
  ]
  for (const [what, fields, path] of invalid) {
    test(`${what} is 400 naming ${path}`, async () => {
      const { token } = await signUp()
      const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [logStep], ...fields } })
      expect(response.status).toBe(400)
      expect(response.body.error.message).toStartWith(path)
      expect((await call(api, 'GET', '/api/v1/zaps', { token })).body.zaps).toEqual([])
    })
  }

  test('the OpenAPI document describes the new fields', async () => {
    const response = await call(api, 'GET', '/openapi.json')
    const text = JSON.stringify(response.body)
    for (const field of ['concurrency', 'debounce', 'maxWaitSeconds', 'rateLimit', 'perSeconds']) expect(text).toContain(field)
  })
})
