import { describe, expect, test } from 'bun:test'
import { api, call, createZap, signUp } from '@zap/testkit/http'

const logStep = (message: string) => ({ type: 'log', config: { message } })
const httpStep = { type: 'http', config: { method: 'POST', url: 'https://example.com/hook', body: { id: '{{trigger.body.id}}' } } }

describe('zaps', () => {
  test('creating a zap returns it with its webhook URL and version 1', async () => {
    const { token } = await signUp()
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'Orders', steps: [httpStep, logStep('done')] } })
    expect(response.status).toBe(201)
    const { zap } = response.body
    expect(zap).toMatchObject({ name: 'Orders', enabled: true, version: 1, hasSecret: false })
    expect(zap.steps).toEqual([{ type: 'http', config: { ...httpStep.config } }, logStep('done')])
    expect(zap.webhookUrl).toBe(`http://hooks.test/hooks/${zap.id}`)
    expect(zap.secret).toBeUndefined()
  })

  test('an unknown step type is 400 naming the step index', async () => {
    const { token } = await signUp()
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [logStep('a'), { type: 'teleport', config: {} }] } })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toStartWith('steps.1.type')
  })

  test('an invalid step config is 400 naming the field', async () => {
    const { token } = await signUp()
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [{ type: 'http', config: { url: 'ftp://example.com' } }] } })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toStartWith('steps.0.config.url')
    expect(response.body.error.details[0].path).toBe('steps.0.config.url')
  })

  test('step ids are kept, and a malformed or repeated id is 400 naming the step and nothing is stored', async () => {
    const { token } = await signUp()
    const named = [{ id: 'order', ...logStep('a') }, logStep('b')]
    const created = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'named', steps: named } })
    expect(created.status).toBe(201)
    expect(created.body.zap.steps).toEqual(named)
    const malformed = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [{ id: 'Order', ...logStep('a') }] } })
    expect(malformed.status).toBe(400)
    expect(malformed.body.error.message).toStartWith('steps.0.id')
    const repeated = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [{ id: 'order', ...logStep('a') }, { id: 'order', ...logStep('b') }] } })
    expect(repeated.status).toBe(400)
    expect(repeated.body.error.details[0]).toEqual({ path: 'steps.1.id', message: 'Step ids are unique within a zap: "order" is also the id of step 0' })
    expect((await call(api, 'GET', '/api/v1/zaps', { token })).body.zaps).toHaveLength(1)
  })

  test('a zap without steps is 400 and nothing is stored', async () => {
    const { token } = await signUp()
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [] } })
    expect(response.status).toBe(400)
    expect((await call(api, 'GET', '/api/v1/zaps', { token })).body.zaps).toEqual([])
  })

  test('list and show return only the caller’s zaps', async () => {
    const { token } = await signUp()
    const first = await createZap(token, { name: 'one' })
    const second = await createZap(token, { name: 'two' })
    const list = await call(api, 'GET', '/api/v1/zaps', { token })
    expect(list.body.zaps.map((zap: { id: string }) => zap.id)).toEqual([second.id, first.id])
    const show = await call(api, 'GET', `/api/v1/zaps/${first.id}`, { token })
    expect(show.body.zap).toMatchObject({ id: first.id, name: 'one', version: 1 })
  })

  test('changing the steps makes a new version; renaming does not', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const renamed = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { name: 'renamed' } })
    expect(renamed.body.zap).toMatchObject({ name: 'renamed', version: 1 })
    const changed = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { steps: [logStep('v2')] } })
    expect(changed.body.zap).toMatchObject({ name: 'renamed', version: 2, steps: [logStep('v2')] })
  })

  test('a secret can be set and removed and is never returned', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { secret: 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ=' })
    expect(zap).toMatchObject({ hasSecret: true })
    const cleared = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { secret: null } })
    expect(cleared.body.zap.hasSecret).toBe(false)
    expect(JSON.stringify(cleared.body)).not.toContain('whsec_')
  })

  test('an invalid patch is 400 and changes nothing', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { name: 'keep' })
    const response = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { name: 'new', steps: [{ type: 'log', config: {} }] } })
    expect(response.status).toBe(400)
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })).body.zap).toMatchObject({ name: 'keep', version: 1 })
  })

  test('deleting a zap is 204, then it is gone', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    expect((await call(api, 'DELETE', `/api/v1/zaps/${zap.id}`, { token })).status).toBe(204)
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token })).status).toBe(404)
    expect((await call(api, 'DELETE', `/api/v1/zaps/${zap.id}`, { token })).status).toBe(404)
  })

  test('a malformed id is 400 naming the parameter', async () => {
    const { token } = await signUp()
    const response = await call(api, 'GET', '/api/v1/zaps/not-an-id', { token })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toContain('id')
  })
})

describe('tenant isolation', () => {
  test('another user gets 404 for every zap and run of mine', async () => {
    const alice = await signUp('Alice')
    const bob = await signUp('Bob')
    const zap = await createZap(alice.token)
    const accepted = await call((await import('@zap/testkit/http')).hooks, 'POST', `/hooks/${zap.id}`, { body: { a: 1 } })
    expect(accepted.status).toBe(202)
    const runId = accepted.body.runId
    const attempts = [
      ['GET', `/api/v1/zaps/${zap.id}`],
      ['PATCH', `/api/v1/zaps/${zap.id}`],
      ['DELETE', `/api/v1/zaps/${zap.id}`],
      ['GET', `/api/v1/runs/${runId}`],
    ] as const
    for (const [method, path] of attempts) {
      const response = await call(api, method, path, { token: bob.token, body: method === 'PATCH' ? { name: 'stolen' } : undefined })
      expect(response.status).toBe(404)
    }
    expect((await call(api, 'GET', '/api/v1/zaps', { token: bob.token })).body.zaps).toEqual([])
    expect((await call(api, 'GET', `/api/v1/runs?zapId=${zap.id}`, { token: bob.token })).body.runs).toEqual([])
    expect((await call(api, 'GET', `/api/v1/zaps/${zap.id}`, { token: alice.token })).body.zap.name).toBe('test zap')
  })
})

describe('step configs', () => {
  test('every step type of the catalog is accepted with a valid config', async () => {
    const { token } = await signUp()
    const steps = [
      httpStep,
      { type: 'filter', config: { conditions: [{ left: '{{trigger.body.plan}}', op: 'equals', right: 'pro' }], match: 'any' } },
      { type: 'delay', config: { seconds: 5 } },
      { type: 'delay', config: { until: '{{trigger.body.sendAt}}' } },
      { type: 'transform', config: { output: { name: '{{trigger.body.name}}' } } },
      { type: 'email', config: { to: 'ops@example.com', subject: 'New order', text: 'Order {{trigger.body.id}}' } },
      logStep('done'),
      { type: 'stop', config: { status: 'failed', reason: 'refused {{trigger.body.id}}' } },
    ]
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'all steps', steps } })
    expect(response.status).toBe(201)
    const catalog = await call(api, 'GET', '/api/v1/catalog')
    expect(catalog.body.steps.map((step: { type: string }) => step.type).sort()).toEqual(['delay', 'email', 'filter', 'http', 'log', 'stop', 'transform'])
  })

  const invalid: [string, unknown, string][] = [
    ['a filter with an unknown operator', { type: 'filter', config: { conditions: [{ left: 'a', op: 'like', right: 'b' }] } }, 'steps.0.config.conditions.0.op'],
    ['a regular expression RE2 cannot run (lookahead)', { type: 'filter', config: { conditions: [{ left: 'a', op: 'matches', right: '(?=a)b' }] } }, 'steps.0.config.conditions.0.right'],
    ['a regular expression with a backreference', { type: 'filter', config: { conditions: [{ left: 'a', op: 'matches', right: '(a)\\1' }] } }, 'steps.0.config.conditions.0.right'],
    ['a regular expression whose repetitions compile too large', { type: 'filter', config: { conditions: [{ left: 'a', op: 'matches', right: '[\\w\\W]{1000}' }] } }, 'steps.0.config.conditions.0.right'],
    ['a regular expression over 200 characters', { type: 'filter', config: { conditions: [{ left: 'a', op: 'matches', right: 'a'.repeat(201) }] } }, 'steps.0.config.conditions.0.right'],
    ['matches without a pattern', { type: 'filter', config: { conditions: [{ left: 'a', op: 'matches', right: 5 }] } }, 'steps.0.config.conditions.0.right'],
    ['a header value with CR/LF', { type: 'http', config: { url: 'https://example.com', headers: { 'x-a': 'b\r\nx-injected: 1' } } }, 'steps.0.config.headers.x-a'],
    ['a stop with an unknown status', { type: 'stop', config: { status: 'cancelled' } }, 'steps.0.config.status'],
    ['a Host header', { type: 'http', config: { url: 'https://example.com', headers: { Host: 'internal.example' } } }, 'steps.0.config.headers.Host'],
    ['a NUL character in a step config', { type: 'transform', config: { output: { a: ['ok', 'b\u0000'] } } }, 'steps.0.config.output.a.1'],
    ['a lone surrogate in a step config', { type: 'log', config: { message: 'x\ud800' } }, 'steps.0.config.message'],
    // The key is named with its unprintable characters as ?, so the error never carries the received text.
    ['a lone surrogate in a key of a step config', { type: 'transform', config: { output: { ['\udc00']: 1 } } }, 'steps.0.config.output.?'],
    ['an email to 51 comma-separated addresses', { type: 'email', config: { to: Array.from({ length: 51 }, (_, n) => `u${n}@example.com`).join(','), subject: 's', text: 't' } }, 'steps.0.config.to'],
    ['an email list whose entries hold more than 50 addresses', { type: 'email', config: { to: ['a@example.com,b@example.com', ...Array.from({ length: 49 }, (_, n) => `u${n}@example.com`)], subject: 's', text: 't' } }, 'steps.0.config.to'],
    ['a delay over 30 days', { type: 'delay', config: { seconds: 31 * 86_400 } }, 'steps.0.config.seconds'],
    ['an email to something that is not an address', { type: 'email', config: { to: 'ops', subject: 's', text: 't' } }, 'steps.0.config.to'],
  ]
  for (const [what, step, path] of invalid) {
    test(`${what} is 400 naming ${path}`, async () => {
      const { token } = await signUp()
      const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [step] } })
      expect(response.status).toBe(400)
      expect(response.body.error.message).toStartWith(path)
    })
  }

  test('a regular expression with nested quantifiers is accepted: RE2 runs it in linear time', async () => {
    const { token } = await signUp()
    const conditions = ['^(a|a)*$', '((a+))+$', '(a|aa)+$', '^(?:a|a)*b', '(\\w|\\d)*x'].map((right) => ({ left: '{{trigger.body.text}}', op: 'matches', right }))
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: [{ type: 'filter', config: { conditions, match: 'any' } }] } })
    expect(response.status).toBe(201)
  })

  test('steps over 192 KiB of JSON are 400 and nothing is stored', async () => {
    const { token } = await signUp()
    const steps = Array.from({ length: 30 }, () => ({ type: 'transform', config: { output: { text: 'x'.repeat(7_000) } } }))
    const response = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps } })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toStartWith('steps')
    expect(response.body.error.message).toContain('196608 bytes')
    expect((await call(api, 'GET', '/api/v1/zaps', { token })).body.zaps).toEqual([])
  })

  test('an email step is refused when the server has no SMTP configured', async () => {
    const { createApi } = await import('./app.ts')
    const { apiOptions } = await import('@zap/testkit/http')
    const withoutSmtp = createApi({ ...apiOptions, smtpConfigured: false })
    const { token } = await signUp()
    const response = await call(withoutSmtp, 'POST', '/api/v1/zaps', {
      token,
      body: { name: 'mail', steps: [logStep('x'), { type: 'email', config: { to: 'a@example.com', subject: 's', text: 't' } }] },
    })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toStartWith('steps.1.type')
    expect(response.body.error.message).toContain('SMTP_URL')
  })

  test('a zap whose http URL names an address the server refuses is 400 naming the field when created or edited, and nothing changes', async () => {
    const { createApi } = await import('./app.ts')
    const { apiOptions } = await import('@zap/testkit/http')
    const production = createApi({ ...apiOptions, targetScope: 'public' })
    const dev = createApi({ ...apiOptions, targetScope: 'loopback' })
    const { token } = await signUp()
    const httpTo = (url: string) => ({ type: 'http', config: { url } })
    const create = (app: typeof production, url: string) => call(app, 'POST', '/api/v1/zaps', { token, body: { name: 'target', steps: [logStep('x'), httpTo(url)] } })

    for (const [url, range] of [['http://localhost:3000/in', 'loopback'], ['http://127.0.0.1/', 'loopback'], ['http://[::1]:8080/', 'loopback'], ['http://10.0.0.5/', 'private'], ['http://169.254.169.254/latest/meta-data/', 'linkLocal']]) {
      const refused = await create(production, url!)
      expect(refused.status).toBe(400)
      expect(refused.body.error.message).toStartWith(`steps.1.config.url: ${new URL(url!).hostname} is a ${range} address, which this server's steps may not call (ALLOW_PRIVATE_TARGETS=true`)
      expect(refused.body.error.details).toEqual([{ path: 'steps.1.config.url', message: expect.stringContaining(range!) }])
    }
    expect((await call(production, 'GET', '/api/v1/zaps', { token })).body.zaps).toEqual([])

    // bun run dev lets steps reach this machine's loopback, never link-local or metadata addresses.
    expect((await create(dev, 'http://localhost:3000/in')).status).toBe(201)
    expect((await create(dev, 'http://169.254.169.254/')).status).toBe(400)
    // A name is resolved (and checked) when the step runs; a templated URL is only known then.
    expect((await create(production, 'https://example.com/in')).status).toBe(201)
    expect((await create(production, 'http://{{trigger.body.host}}/in')).status).toBe(201)

    const zap = (await create(production, 'https://93.184.215.14/in')).body.zap
    const edited = await call(production, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { steps: [httpTo('http://192.168.1.10/')] } })
    expect(edited.status).toBe(400)
    expect(edited.body.error.message).toStartWith('steps.0.config.url: 192.168.1.10 is a private address')
    expect((await call(production, 'GET', `/api/v1/zaps/${zap.id}`, { token })).body.zap).toMatchObject({ version: 1, steps: [logStep('x'), httpTo('https://93.184.215.14/in')] })

    await call(production, 'POST', '/api/v1/alerts/secret', { token })
    const alert = await call(production, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { onFailure: { webhook: 'http://127.0.0.1:9000/alerts' } } })
    expect(alert.status).toBe(400)
    expect(alert.body.error.message).toStartWith('onFailure.webhook: 127.0.0.1 is a loopback address')
  })
})
