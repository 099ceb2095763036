// Type-checked by api/src/openapi.test.ts against types generated from the live documents: no casts allowed.
import createClient from 'openapi-fetch'
import type { paths as ApiPaths } from './api'
import type { paths as HookPaths } from './hooks'
import { apiUrl, hooksUrl } from './urls'

const api = createClient<ApiPaths>({ baseUrl: apiUrl })
const hooks = createClient<HookPaths>({ baseUrl: hooksUrl })

const signup = await api.POST('/api/v1/auth/signup', {
  body: { email: `typed-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Typed' },
})
if (!signup.data) throw new Error(`signup: ${signup.error?.error.message}`)
const auth = { authorization: `Bearer ${signup.data.token}` }

const created = await api.POST('/api/v1/zaps', {
  headers: auth,
  body: { name: 'typed client', steps: [{ type: 'log', config: { message: 'hi {{trigger.body.name}}' } }] },
})
if (!created.data) throw new Error(`createZap: ${created.error?.error.message}`)
const zap = created.data.zap

const triggered = await hooks.POST('/hooks/{zapId}', { params: { path: { zapId: zap.id } }, body: { name: 'Ada' } })
// A 200 may also be a Slack handshake's {challenge}; a webhook that started a run names it.
if (triggered.response.status !== 202 || !triggered.data || !('runId' in triggered.data)) throw new Error(`trigger: ${triggered.error?.error.message}`)

const shown = await api.GET('/api/v1/runs/{id}', { headers: auth, params: { path: { id: triggered.data.runId } } })
if (!shown.data) throw new Error(`getRun: ${shown.error?.error.message}`)
const run = shown.data.run
const createdAt: string = run.createdAt

console.log(JSON.stringify({ zapId: zap.id, webhookUrl: zap.webhookUrl, runId: run.id, status: run.status, steps: run.steps.map((step) => step.type), trigger: run.trigger.body, createdAt }))
