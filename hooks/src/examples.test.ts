import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { createHmac } from 'node:crypto'
import { readdirSync, readFileSync } from 'node:fs'
import { join } from 'node:path'
import { sign as signGithub } from '@octokit/webhooks-methods'
import Stripe from 'stripe'
import { api, call, hooks, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { mailText, startSmtpServer } from '@zap/testkit/smtp'
import { startTarget } from '@zap/testkit/target'

const root = join(import.meta.dir, '..', '..')
const examplesDir = join(root, 'examples')
const stripe = new Stripe('sk_test_oracle')

type Example = { name: string; verify?: { secrets: string[] }; steps: { type: string; config: Record<string, any> }[] }
const readJson = (path: string) => JSON.parse(readFileSync(path, 'utf8'))
const example = (file: string): Example => readJson(join(examplesDir, file))
const event = (file: string) => readFileSync(join(examplesDir, 'events', file), 'utf8')

// How each sender signs its deliveries, with the sender's own library where there is one.
const signers: Record<string, (secret: string, body: string) => Promise<Record<string, string>>> = {
  'github-push-to-chat.json': async (secret, body) => ({ 'x-github-delivery': crypto.randomUUID(), 'x-hub-signature-256': await signGithub(secret, body) }),
  'stripe-payment-to-email.json': async (secret, body) => ({ 'stripe-signature': await stripe.webhooks.generateTestHeaderStringAsync({ payload: body, secret }) }),
  'shopify-order-fan-out.json': async (secret, body) => ({
    'x-shopify-webhook-id': crypto.randomUUID(),
    'x-shopify-hmac-sha256': createHmac('sha256', secret).update(body).digest('base64'),
  }),
}

let target: ReturnType<typeof startTarget>
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let pipeline: Pipeline

beforeAll(async () => {
  target = startTarget()
  smtp = await startSmtpServer()
  pipeline = await startPipeline({ SMTP_URL: smtp.url, ALLOW_PRIVATE_TARGETS: 'true' })
})

afterAll(async () => {
  await pipeline?.stop()
  target?.stop()
  await smtp?.stop()
})

// The example as a user would create it, with its remote URLs pointed at the local target (same path).
function pointedAtTarget(zap: Example): Example {
  const steps = zap.steps.map((step) => (step.type === 'http' ? { ...step, config: { ...step.config, url: target.url + new URL(step.config.url).pathname } } : step))
  return { ...zap, steps }
}

async function createExample(file: string, token: string) {
  const created = await call(api, 'POST', '/api/v1/zaps', { token, body: pointedAtTarget(example(file)) })
  expect(created.status, JSON.stringify(created.body)).toBe(201)
  return created.body.zap as { id: string }
}

async function deliverSigned(file: string, zapId: string, body: string) {
  const headers = await signers[file]!(example(file).verify!.secrets[0]!, body)
  const unsigned = await call(hooks, 'POST', `/hooks/${zapId}`, { body, headers: { 'content-type': 'application/json' } })
  expect(unsigned.status).toBe(401)
  const accepted = await call(hooks, 'POST', `/hooks/${zapId}`, { body, headers: { 'content-type': 'application/json', ...headers } })
  expect(accepted.status, JSON.stringify(accepted.body)).toBe(202)
  return accepted.body.runId as string
}

describe('examples/', () => {
  test('every example is listed in examples/README.md and referenced from docs/', () => {
    const files = readdirSync(examplesDir).filter((file) => file.endsWith('.json'))
    expect(files.sort()).toEqual(['form-to-log.json', 'github-push-to-chat.json', 'shopify-order-fan-out.json', 'stripe-payment-to-email.json'])
    const docs = readdirSync(join(root, 'docs')).map((file) => readFileSync(join(root, 'docs', file), 'utf8')).join('\n')
    const index = readFileSync(join(examplesDir, 'README.md'), 'utf8')
    for (const file of files) {
      expect(index).toContain(`](${file})`)
      expect(docs).toContain(`](../examples/${file})`)
    }
  })

  test('github-push-to-chat: a signed push to main posts its line to the chat webhook', async () => {
    const { token } = await signUp()
    const zap = await createExample('github-push-to-chat.json', token)
    const runId = await deliverSigned('github-push-to-chat.json', zap.id, event('github-push.json'))
    const run = await waitForRun(token, runId)
    expect(run.status).toBe('succeeded')
    const [posted] = target.requestsTo('/services/T000/B000/replace-with-your-incoming-webhook')
    expect(posted!.json).toEqual({ text: 'ada pushed to octo/app: Fix the login form https://github.com/octo/app/compare/1a2b3c...4d5e6f' })
  }, 30_000)

  test('stripe-payment-to-email: a signed payment_intent.succeeded emails the payer', async () => {
    const { token } = await signUp()
    const zap = await createExample('stripe-payment-to-email.json', token)
    const runId = await deliverSigned('stripe-payment-to-email.json', zap.id, event('stripe-payment.json'))
    const run = await waitForRun(token, runId)
    expect(run.status).toBe('succeeded')
    const mail = smtp.received.find((received) => received.to.includes('grace@example.com'))!
    expect(mailText(mail)).toContain('We received 4200 (in cents, eur). Reference: pi_3QExample.')
  }, 30_000)

  test('shopify-order-fan-out: a signed order reaches the warehouse and the CRM', async () => {
    const { token } = await signUp()
    const zap = await createExample('shopify-order-fan-out.json', token)
    const runId = await deliverSigned('shopify-order-fan-out.json', zap.id, event('shopify-order.json'))
    const run = await waitForRun(token, runId)
    expect(run.status).toBe('succeeded')
    expect(target.requestsTo('/api/shipments').at(-1)!.json).toEqual({ reference: '#1001', items: [{ sku: 'MUG-1', quantity: 2 }] })
    expect(target.requestsTo('/api/orders').at(-1)!.json).toEqual({ email: 'grace@example.com', order: '#1001', total: '42.00' })
  }, 30_000)

  test('form-to-log: a form-encoded contact form is logged', async () => {
    const { token } = await signUp()
    const zap = await createExample('form-to-log.json', token)
    const body = new URLSearchParams({ email: 'grace@example.com', message: 'Hello there' }).toString()
    const accepted = await call(hooks, 'POST', `/hooks/${zap.id}`, { body, headers: { 'content-type': 'application/x-www-form-urlencoded' } })
    expect(accepted.status).toBe(202)
    const run = await waitForRun(token, accepted.body.runId)
    expect(run.status).toBe('succeeded')
    expect(run.steps[1]!.output).toMatchObject({ message: 'Contact form from grace@example.com: Hello there' })
  }, 30_000)
})
