import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startTarget } from '@zap/testkit/target'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'

const target = startTarget()
let stack: Awaited<ReturnType<typeof startStack>>
let ada: Awaited<ReturnType<typeof signedUpUser>>
beforeAll(async () => {
  stack = await startStack({ pipeline: true })
  ada = await signedUpUser(stack.apiUrl)
}, 60_000)
afterAll(async () => {
  await stack?.stop()
  target.stop()
}, 30_000)

const httpStep = (path: string) => `http:${JSON.stringify({ url: `${target.url}${path}` })}`

describe('a run paused by a delay', () => {
  test('shows as waiting in runs show and runs list, is found by --status waiting and not by --status running', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Later', '--step', 'delay:{"seconds":3600}', '--step', logStep()])
    const { runId } = await ada.zapJson(['trigger', zap.id, '--data', '{}'])
    const shownStatus = async () => (await ada.zapJson(['runs', 'show', runId])).status as string
    for (let tries = 0; tries < 100 && (await shownStatus()) !== 'waiting'; tries++) await Bun.sleep(100)
    expect(await shownStatus()).toBe('waiting')
    const ids = async (status: string) => (await ada.zapJson(['runs', 'list', '--zap', zap.id, '--status', status])).map((run: { id: string }) => run.id)
    expect(await ids('waiting')).toEqual([runId])
    expect(await ids('running')).toEqual([])
    expect((await ada.zap(['runs', 'show', runId])).stdout).toMatch(/^Status:\s+waiting$/m)
  }, 30_000)
})

describe('zap trigger --wait with the processor and worker running', () => {
  test('follows the run, printing each step as it completes, and exits 0 when it succeeds', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Waited', '--step', logStep(), '--step', httpStep('/ok')])
    const result = await ada.zap(['trigger', zap.id, '--data', '{"name":"Ada"}', '--wait'])
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^Run [0-9a-f-]{36}: following\.\.\.$/)
    expect(lines[1]).toMatch(/^✓ 1\. log succeeded \(1 attempt, \d+ms\) → hi Ada$/)
    expect(lines[2]).toMatch(/^✓ 2\. http succeeded \(1 attempt, [\d.]+m?s\) → HTTP 200$/)
    expect(lines[3]).toMatch(/^Run succeeded\. Details: zap runs show [0-9a-f-]{36}$/)
  }, 30_000)

  test("each step shows its short result: a filter's decision, what a transform made; --verbose adds the full outputs", async () => {
    const filter = `filter:${JSON.stringify({ conditions: [{ left: '{{trigger.body.go}}', op: 'equals', right: 'yes' }] })}`
    const transform = `transform:${JSON.stringify({ output: { greeting: 'Hello {{trigger.body.name}}', lines: ['one', 'two'] } })}`
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Results', '--step', filter, '--step', transform])

    const stopped = await ada.zap(['trigger', zap.id, '--data', '{"go":"no","name":"Ada"}', '--wait'])
    expect(stopped.exitCode).toBe(0)
    expect(stopped.stdout).toMatch(/^✓ 1\. filter succeeded \(1 attempt, \S+\) → did not pass \(0 of 1 conditions held\); the run stops here$/m)
    expect(stopped.stdout).toMatch(/^- 2\. transform skipped \(0 attempts, -\)  Filter did not pass \(all\): "no" equals "yes"$/m)

    const passed = await ada.zap(['trigger', zap.id, '--data', '{"go":"yes","name":"Grace"}', '--wait', '--verbose'])
    expect(passed.exitCode).toBe(0)
    expect(passed.stdout).toMatch(/^✓ 1\. filter succeeded \(1 attempt, \S+\) → passed \(1 of 1 conditions held\)$/m)
    // PostgreSQL's jsonb keeps keys in its own order.
    expect(passed.stdout).toMatch(/^✓ 2\. transform succeeded \(1 attempt, \S+\) → \{("lines":\["one","two"\],)?"greeting":"Hello Grace"(,"lines":\["one","two"\])?\}$/m)
    expect(passed.stdout).toMatch(/^  output: \{\n {4}"/m)
    expect(passed.stdout).toContain('    "greeting": "Hello Grace"')
    expect(passed.stdout).toContain('"passed": true')
  }, 30_000)

  test('--wait --json prints the finished run with the step outputs', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Waited JSON', '--step', logStep()])
    const run = await ada.zapJson(['trigger', zap.id, '--data', '{"name":"Json"}', '--wait'])
    expect(run).toMatchObject({ zapId: zap.id, status: 'succeeded', steps: [{ status: 'succeeded', attempts: 1 }] })
    expect(JSON.stringify(run.steps[0].output)).toContain('hi Json')
  }, 30_000)

  test('a step that fails and is retried shows the failed attempt, then its success', async () => {
    target.on('/flaky', async (_request, count) => {
      if (count === 1) return new Response('busy', { status: 503 })
      await Bun.sleep(700)
      return Response.json({ ok: true })
    })
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Flaky', '--step', httpStep('/flaky')])
    const result = await ada.zap(['trigger', zap.id, '--data', '{}', '--wait'])
    expect(result.exitCode).toBe(0)
    const steps = result.stdout.split('\n').filter((line) => line.includes('1. http'))
    expect(steps).toHaveLength(2)
    expect(steps[0]).toMatch(/^↻ 1\. http retrying \(1 attempt, -\)  .*answered 503/)
    expect(steps[1]).toMatch(/^✓ 1\. http succeeded \(2 attempts, /)
  }, 30_000)

  test('a failing step its retries, then the run fails with exit 1 and says how to replay it', async () => {
    target.on('/down', () => new Response('nope', { status: 500 }))
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Failing', '--step', httpStep('/down'), '--step', logStep()])
    const result = await ada.zap(['trigger', zap.id, '--data', '{}', '--wait'])
    expect(result.exitCode).toBe(1)
    const runId = result.stdout.match(/^Run ([0-9a-f-]{36}): following/)![1]!
    expect(result.stdout).toMatch(/^✗ 1\. http failed \(4 attempts, .*answered 500/m)
    expect(result.stderr.trim()).toMatch(new RegExp(`^Error: Run ${runId} failed at step 1 \\(http\\): .*answered 500.*\\. Replay it: zap runs replay ${runId}$`))

    const failed = await ada.zapJson(['runs', 'list', '--zap', zap.id, '--status', 'failed'])
    expect(failed.map((run: { id: string }) => run.id)).toEqual([runId])
    const shown = await ada.zap(['runs', 'show', runId])
    expect(shown.stdout).toMatch(/^1\s+http\s+failed\s+4\s+\S+\s+.*answered 500/m)
    expect(shown.stdout).toMatch(/^2\s+log\s+pending\s+0\s+-$/m)
    expect(shown.stdout).toContain(`Replay it from the failed step: zap runs replay ${runId}`)
  }, 30_000)

  test('a zap from a file with a concurrency limit shows it, and runs show says why a second run waits', async () => {
    target.on('/hold', async () => {
      await Bun.sleep(3_000)
      return Response.json({})
    })
    const file = `${ada.env.XDG_CONFIG_HOME}/limited.json`
    await Bun.write(file, JSON.stringify({ name: 'One at a time', steps: [{ type: 'http', config: { url: `${target.url}/hold` } }], concurrency: { limit: 1 } }))
    const zap = await ada.zapJson(['zaps', 'create', '--file', file])
    expect(zap.concurrency).toEqual({ limit: 1 })
    expect((await ada.zap(['zaps', 'show', zap.id])).stdout).toMatch(/^Concurrency:\s+at most 1 at once, in arrival order$/m)
    await ada.zapJson(['trigger', zap.id, '--data', '{}'])
    const second = await ada.zapJson(['trigger', zap.id, '--data', '{}'])
    let shown = ''
    const deadline = Date.now() + 20_000
    while (!shown.includes('Waiting') && Date.now() < deadline) {
      shown = (await ada.zap(['runs', 'show', second.runId])).stdout
      await Bun.sleep(200)
    }
    expect(shown).toMatch(/^Status:\s+waiting$/m)
    expect(shown).toMatch(/^Waiting:\s+Waiting for a concurrency slot: limit 1, 1 earlier run not finished/m)
  }, 60_000)
})
