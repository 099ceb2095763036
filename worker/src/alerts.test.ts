import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { Webhook } from 'standardwebhooks'
import { api, call, createZap, hooks, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { waitUntil } from '@zap/testkit/services'
import { startTarget, type ReceivedRequest } from '@zap/testkit/target'
import { mailText, startSmtpServer } from '@zap/testkit/smtp'

const throttleMs = 15_000
const target = startTarget()
target.on('/down', () => new Response('target down', { status: 500 }))
// The first delivery of an alert fails, so it is retried.
target.on('/alerts', (_request, count) => new Response(null, { status: count === 1 ? 503 : 204 }))
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let pipeline: Pipeline

beforeAll(async () => {
  smtp = await startSmtpServer()
  pipeline = await startPipeline({ SMTP_URL: smtp.url, STEP_MAX_ATTEMPTS: '1', ALERT_THROTTLE_MS: String(throttleMs) })
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  await smtp?.stop()
  target.stop()
}, 30_000)

async function alertingUser() {
  const { token } = await signUp()
  const created = await call(api, 'POST', '/api/v1/alerts/secret', { token })
  expect(created.status).toBe(201)
  return { token, secret: created.body.secret as string }
}

const failingSteps = [{ type: 'log', config: { message: 'first' } }, { type: 'http', config: { url: `${target.url}/down` } }]
const trigger = async (zapId: string) => (await call(hooks, 'POST', `/hooks/${zapId}`, { body: { n: 1 } })).body.runId as string
const mailsTo = (address: string) => smtp.received.filter((mail) => mail.to.includes(address))

/** The alert's payload, verified with the Standard Webhooks library (which throws on a bad signature). */
const verified = (secret: string, request: ReceivedRequest) => new Webhook(secret).verify(request.body, request.headers) as { type: string; data: any }

describe('failure alerts', () => {
  test('a run that finally fails sends one signed webhook (retried once) and one email, with the run, zap, step, error and replay command', async () => {
    const { token, secret } = await alertingUser()
    const email = `ops-${crypto.randomUUID()}@example.com`
    const zap = await createZap(token, { name: 'Nightly sync', steps: failingSteps, onFailure: { webhook: `${target.url}/alerts`, email } })
    const runId = await trigger(zap.id)
    expect((await waitForRun(token, runId)).status).toBe('failed')

    await waitUntil(() => target.requestsTo('/alerts').length === 2 && mailsTo(email).length === 1, () => `the alert webhook to be retried and the email sent (${target.requestsTo('/alerts').length} requests, ${mailsTo(email).length} emails)`, 30_000)
    const [first, retried] = target.requestsTo('/alerts')
    expect(retried!.headers['webhook-id']).toBe(first!.headers['webhook-id'])
    expect(verified(secret, retried!)).toMatchObject({
      type: 'run.failed',
      data: {
        zap: { id: zap.id, name: 'Nightly sync' },
        run: { id: runId },
        failedStep: { index: 1, type: 'http' },
        error: expect.stringContaining('500'),
        failures: 1,
        replay: `zap runs replay ${runId}`,
      },
    })
    expect(() => new Webhook(`whsec_${Buffer.from('another secret of enough length').toString('base64')}`).verify(retried!.body, retried!.headers)).toThrow()
    const mail = mailText(mailsTo(email)[0]!)
    expect(mail).toContain('Nightly sync')
    expect(mail).toContain(runId)
    expect(mail).toContain(`zap runs replay ${runId}`)
    expect(mail).toMatch(/Step:\s+2 \(http\)/)

    // Nothing more comes for this one failure.
    await Bun.sleep(3_000)
    expect(target.requestsTo('/alerts')).toHaveLength(2)
    expect(mailsTo(email)).toHaveLength(1)
  }, 60_000)

  test('20 failures in a burst send one alert, and at most one more with the rest folded in after the throttle window', async () => {
    const { token, secret } = await alertingUser()
    const email = `burst-${crypto.randomUUID()}@example.com`
    const zap = await createZap(token, { steps: failingSteps, onFailure: { webhook: `${target.url}/burst`, email } })
    const runIds = await Promise.all(Array.from({ length: 20 }, () => trigger(zap.id)))
    for (const runId of runIds) expect((await waitForRun(token, runId, 60_000)).status).toBe('failed')

    const alerts = () => target.requestsTo('/burst').map((request) => verified(secret, request).data)
    const reported = () => alerts().reduce((sum, alert) => sum + alert.failures, 0)
    await waitUntil(() => reported() === 20 && mailsTo(email).length === alerts().length, () => `alerts for all 20 failures (${JSON.stringify(alerts())}, ${mailsTo(email).length} emails)`, throttleMs + 30_000)
    // The first alert goes out at the next poll with whatever failed by then; the rest, if any, wait for the window.
    const sent = alerts()
    expect(sent.length).toBeLessThanOrEqual(2)
    expect(runIds).toContain(sent.at(-1).run.id)
    if (sent.length === 2) {
      const [first, second] = target.requestsTo('/burst')
      expect(second!.at - first!.at).toBeGreaterThanOrEqual(throttleMs - 1_000)
      expect(mailText(mailsTo(email)[1]!)).toContain(`${sent[1].failures} runs failed since the last alert`)
    }
    await Bun.sleep(2_000)
    expect(target.requestsTo('/burst')).toHaveLength(sent.length)
  }, 120_000)

  test('an alert webhook to a private address is refused like an http step\u2019s call, while the email still goes out', async () => {
    const guarded = await startPipeline({ SMTP_URL: smtp.url, STEP_MAX_ATTEMPTS: '1', ALLOW_PRIVATE_TARGETS: 'false' })
    try {
      await pipeline.stop()
      const { token } = await alertingUser()
      const email = `guarded-${crypto.randomUUID()}@example.com`
      const zap = await createZap(token, { steps: failingSteps, onFailure: { webhook: `${target.url}/private`, email } })
      const runId = await trigger(zap.id)
      const run = await waitForRun(token, runId, 60_000)
      expect(run.steps[1]!.error).toContain('private addresses are refused')
      await waitUntil(() => mailsTo(email).length === 1, 'the alert email', 30_000)
      await Bun.sleep(2_000)
      expect(target.requestsTo('/private')).toEqual([])
      expect(guarded.worker.output()).toContain('failure alert not delivered')
    } finally {
      await guarded.stop()
      pipeline = await startPipeline({ SMTP_URL: smtp.url, STEP_MAX_ATTEMPTS: '1', ALERT_THROTTLE_MS: String(throttleMs) })
    }
  }, 120_000)

  test('onFailure is checked: a webhook needs the alert secret first, and a malformed target is refused naming the field', async () => {
    const { token } = await signUp()
    const noSecret = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: failingSteps, onFailure: { webhook: 'https://example.com/alerts' } } })
    expect(noSecret.status).toBe(409)
    expect(noSecret.body.error.code).toBe('alert_secret_missing')
    expect(noSecret.body.error.message).toContain('POST /api/v1/alerts/secret')
    for (const onFailure of [{}, { webhook: 'ftp://example.com/x' }, { email: 'not an address' }]) {
      const refused = await call(api, 'POST', '/api/v1/zaps', { token, body: { name: 'x', steps: failingSteps, onFailure } })
      expect(refused.status).toBe(400)
      expect(refused.body.error.message).toContain('onFailure')
    }
    const zap = await createZap(token, { steps: failingSteps, onFailure: { email: 'ops@example.com' } })
    expect(zap).toMatchObject({ onFailure: { email: 'ops@example.com' } })
    const cleared = await call(api, 'PATCH', `/api/v1/zaps/${zap.id}`, { token, body: { onFailure: null } })
    expect(cleared.body.zap.onFailure).toBeNull()
    const rotated = [(await call(api, 'POST', '/api/v1/alerts/secret', { token })).body.secret, (await call(api, 'POST', '/api/v1/alerts/secret', { token })).body.secret]
    expect(rotated[0]).toMatch(/^whsec_[A-Za-z0-9+/]{43}=$/)
    expect(rotated[1]).not.toBe(rotated[0])
    expect((await call(api, 'POST', '/api/v1/alerts/secret')).status).toBe(401)
  })
})
