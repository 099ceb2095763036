import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp } from '@zap/testkit/http'
import { startPipeline, waitForRun, type Pipeline } from '@zap/testkit/pipeline'
import { startService, waitUntil } from '@zap/testkit/services'
import { startSmtpServer } from '@zap/testkit/smtp'
import { startTarget } from '@zap/testkit/target'

const target = startTarget()
let smtp: Awaited<ReturnType<typeof startSmtpServer>>
let pipeline: Pipeline
let token: string

beforeAll(async () => {
  smtp = await startSmtpServer()
  pipeline = await startPipeline({ SMTP_URL: smtp.url, SMTP_FROM: 'zap@example.com', AUTO_REPLAY_SCHEDULE: '200ms' })
  token = (await signUp()).token
}, 60_000)

afterAll(async () => {
  await pipeline?.stop()
  await smtp?.stop()
  target.stop()
}, 30_000)

async function fire(zapId: string, body: unknown) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}`, { body })
  expect(response.status).toBe(202)
  return response.body.runId as string
}

const log = (message: string) => ({ type: 'log', config: { message } })

describe('filter', () => {
  const filter = { type: 'filter', config: { conditions: [{ left: '{{trigger.body.plan}}', op: 'equals', right: 'pro' }, { left: '{{trigger.body.seats}}', op: 'greater_than', right: 5 }], match: 'all' } }

  test('when the conditions hold the run goes on', async () => {
    const zap = await createZap(token, { steps: [filter, log('upgraded {{trigger.body.plan}}')] })
    const run = await waitForRun(token, await fire(zap.id, { plan: 'pro', seats: 10 }))
    expect(run.status).toBe('succeeded')
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded'])
    expect(run.steps[0]!.output.passed).toBe(true)
    expect(run.steps[1]!.output).toEqual({ message: 'upgraded pro' })
  })

  test('when they do not hold the run ends succeeded with the rest skipped and the reason', async () => {
    const zap = await createZap(token, { steps: [filter, log('never'), log('never either')] })
    const run = await waitForRun(token, await fire(zap.id, { plan: 'pro', seats: 2 }))
    expect(run.status).toBe('succeeded')
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'skipped', 'skipped'])
    expect(run.steps[0]!.output.passed).toBe(false)
    expect(run.steps[1]!.error).toContain('Filter did not pass')
    expect(run.steps[1]!.error).toContain('greater_than')
  })

  test('any, exists and matches', async () => {
    const zap = await createZap(token, {
      steps: [
        { type: 'filter', config: { match: 'any', conditions: [{ left: '{{trigger.body.missing}}', op: 'exists' }, { left: '{{trigger.body.email}}', op: 'matches', right: '@example\\.com$' }] } },
        log('ok'),
      ],
    })
    const run = await waitForRun(token, await fire(zap.id, { email: 'ada@example.com' }))
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded'])
  })
})

describe('step ids', () => {
  test('a later step reads an earlier one’s output by its id as well as by its index', async () => {
    const zap = await createZap(token, {
      steps: [{ id: 'order', type: 'transform', config: { output: { total: '{{trigger.body.total}}' } } }, log('{{steps.order.output.total}} = {{steps.0.output.total}}')],
    })
    const run = await waitForRun(token, await fire(zap.id, { total: 120 }))
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded'])
    expect(run.steps[1]!.output).toEqual({ message: '120 = 120' })
  })
})

describe('stop', () => {
  test('ends the run succeeded with its rendered reason, and the remaining steps are skipped', async () => {
    const zap = await createZap(token, { steps: [log('first'), { type: 'stop', config: { reason: 'nothing to do for {{trigger.body.who}}' } }, log('never')] })
    const run = await waitForRun(token, await fire(zap.id, { who: 'ada' }))
    expect(run.status).toBe('succeeded')
    expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'succeeded', 'skipped'])
    expect(run.steps[1]!.output).toEqual({ status: 'succeeded', reason: 'nothing to do for ada' })
    expect(run.steps[2]!.error).toBe('nothing to do for ada')
  })

  test('with status failed ends the run failed at once, without retries or an automatic replay', async () => {
    const zap = await createZap(token, { autoReplay: true, steps: [{ type: 'stop', config: { status: 'failed', reason: 'refused {{trigger.body.id}}' } }, log('never')] })
    const run = await waitForRun(token, await fire(zap.id, { id: 7 }))
    expect(run.status).toBe('failed')
    expect(run.steps.map((step) => [step.status, step.attempts, step.error])).toEqual([['failed', 1, 'refused 7'], ['skipped', 0, 'refused 7']])
    await Bun.sleep(1_500)
    const later = await call(api, 'GET', `/api/v1/runs/${run.id}`, { token })
    expect(later.body.run).toMatchObject({ status: 'failed', replay: 0 })
  })
})

describe('regular expressions', () => {
  const backtracking = ['^(a|a)*$', '((a+))+$', '(a|aa)+$', '^(?:a|a)*b', '(\\w|\\d)*x']
  const hostile = { type: 'filter', config: { match: 'any', conditions: Array.from({ length: 50 }, (_, n) => ({ left: '{{trigger.body.text}}', op: 'matches', right: backtracking[n % 5] })) } }
  const took = (from: string, to: string) => Date.parse(to) - Date.parse(from)

  test('patterns that backtrack for ever in JavaScript finish at once, and another zap’s run is not held up', async () => {
    const attack = await createZap(token, { steps: [hostile, log('never')] })
    const bystander = await createZap(token, { steps: [log('on time')] })
    const attacks = await Promise.all([1, 2, 3].map(() => fire(attack.id, { text: `${'a'.repeat(31)}!` })))
    const bystanderRun = await waitForRun(token, await fire(bystander.id, {}))
    expect(bystanderRun.status).toBe('succeeded')
    // JavaScript's engine spent about 1 s per condition here: 50 s per run, a minute and more of delay for the bystander.
    expect(took(bystanderRun.createdAt, bystanderRun.finishedAt)).toBeLessThan(5_000)
    for (const runId of attacks) {
      const run = await waitForRun(token, runId)
      expect(run.steps.map((step) => step.status)).toEqual(['succeeded', 'skipped'])
      expect(run.steps[0]!.output.passed).toBe(false)
      // Typically tens of milliseconds; the bound leaves room for a loaded machine.
      expect(took(run.steps[0]!.startedAt, run.steps[0]!.finishedAt)).toBeLessThan(3_000)
    }
  })

  test('a pattern rendered from the trigger is checked like one written in the zap', async () => {
    const zap = await createZap(token, { steps: [{ type: 'filter', config: { conditions: [{ left: 'abc', op: 'matches', right: '{{trigger.body.pattern}}' }] } }] })
    const run = await waitForRun(token, await fire(zap.id, { pattern: '(?=a)abc' }))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.error).toContain('config.conditions.0.right')
    expect(run.steps[0]!.error).toContain('Unsupported regular expression')
    const matching = await waitForRun(token, await fire(zap.id, { pattern: '^a.c$' }))
    expect(matching.steps[0]!.output.passed).toBe(true)
  })
})

test('transform builds a new object that later steps use', async () => {
  const zap = await createZap(token, {
    steps: [
      { type: 'transform', config: { output: { customer: { name: '{{trigger.body.first}} {{trigger.body.last}}', age: '{{trigger.body.age}}' }, source: 'zap' } } },
      { type: 'http', config: { url: `${target.url}/transformed`, body: '{{steps.0.output}}' } },
    ],
  })
  const run = await waitForRun(token, await fire(zap.id, { first: 'Ada', last: 'Lovelace', age: 36 }))
  expect(run.status).toBe('succeeded')
  const expected = { customer: { name: 'Ada Lovelace', age: 36 }, source: 'zap' }
  expect(run.steps[0]!.output).toEqual(expected)
  expect(target.requestsTo('/transformed').at(-1)!.json).toEqual(expected)
})

describe('email', () => {
  test('an email step sends through SMTP with the rendered fields', async () => {
    const zap = await createZap(token, {
      steps: [{ type: 'email', config: { to: '{{trigger.body.email}}', subject: 'Welcome, {{trigger.body.name}}', text: 'Your order {{trigger.body.order}} shipped.' } }],
    })
    const run = await waitForRun(token, await fire(zap.id, { email: 'grace@example.org', name: 'Grace', order: 'A-17' }))
    expect(run.status).toBe('succeeded')
    expect(run.steps[0]!.output.accepted).toEqual(['grace@example.org'])
    const mail = smtp.received.find((message) => message.to.includes('grace@example.org'))!
    expect(mail.from).toBe('zap@example.com')
    expect(mail.raw).toContain('Subject: Welcome, Grace')
    expect(mail.raw).toContain('Your order A-17 shipped.')
  })

  test('a recipient the server refuses fails the step with the server’s reason', async () => {
    const zap = await createZap(token, { steps: [{ type: 'email', config: { to: 'nobody@refused.example', subject: 'x', text: 'y' } }] })
    const run = await waitForRun(token, await fire(zap.id, {}))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.attempts).toBe(1)
    expect(run.steps[0]!.error).toContain('No such user here')
  })

  const sentTo = (domain: string) => smtp.received.filter((message) => message.to.some((address: string) => address.includes(domain)))

  test('recipients rendered from the trigger are capped, comma-separated or as a list, and nothing is sent past the cap', async () => {
    const zap = await createZap(token, { steps: [{ type: 'email', config: { to: '{{trigger.body.to}}', subject: 'x', text: 'y' } }] })
    const many = Array.from({ length: 1_000 }, (_, n) => `u${n}@many.example`)
    const asText = await waitForRun(token, await fire(zap.id, { to: many.join(',') }))
    const asList = await waitForRun(token, await fire(zap.id, { to: many }))
    for (const run of [asText, asList]) {
      expect(run.status).toBe('failed')
      expect(run.steps[0]!.attempts).toBe(1)
      expect(run.steps[0]!.error).toContain('config.to')
    }
    const mixed = await waitForRun(token, await fire(zap.id, { to: ['a@many.example,b@many.example', ...many.slice(0, 49)] }))
    expect(mixed.steps[0]!.error).toContain('at most 50 recipients')
    const fifty = await waitForRun(token, await fire(zap.id, { to: many.slice(0, 50).join(', ') }))
    expect(fifty.status).toBe('succeeded')
    expect(sentTo('@many.example')).toHaveLength(1)
  })

  test('a rendered value containing "{{" is checked like any other address', async () => {
    const zap = await createZap(token, { steps: [{ type: 'email', config: { to: ['ops@example.com', '{{trigger.body.email}}'], subject: 'x', text: 'y' } }] })
    const run = await waitForRun(token, await fire(zap.id, { email: 'victim@braces.example, {{x}} y' }))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.attempts).toBe(1)
    expect(run.steps[0]!.error).toContain('is not an email address')
    expect(sentTo('braces.example')).toHaveLength(0)
  })

  test('a rendered recipient that is not an email address fails the step', async () => {
    const zap = await createZap(token, { steps: [{ type: 'email', config: { to: '{{trigger.body.email}}', subject: 'x', text: 'y' } }] })
    const run = await waitForRun(token, await fire(zap.id, { email: 'not an address' }))
    expect(run.status).toBe('failed')
    expect(run.steps[0]!.error).toContain('config.to')
  })
})

test('a 2 s delay holds no worker and survives a worker restart in the middle', async () => {
  const zap = await createZap(token, { steps: [{ type: 'delay', config: { seconds: 2 } }, { type: 'http', config: { url: `${target.url}/after-delay` } }] })
  const started = Date.now()
  const runId = await fire(zap.id, {})
  await waitUntil(async () => (await call((await import('@zap/testkit/http')).api, 'GET', `/api/v1/runs/${runId}`, { token })).body.run.steps[0].status === 'waiting', 'the delay to start')
  await pipeline.worker.stop()
  pipeline.worker = await startService('worker', pipeline.env)
  const run = await waitForRun(token, runId)
  expect(run.status).toBe('succeeded')
  const [hit] = target.requestsTo('/after-delay').filter((request) => request.headers['idempotency-key'] === `${runId}:1`)
  expect(hit!.at - started).toBeGreaterThanOrEqual(2_000)
  expect(run.steps[0]!.output.waitedUntil).toBeString()
}, 30_000)
