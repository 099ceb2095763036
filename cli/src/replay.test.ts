import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { waitUntil } from '@zap/testkit/services'
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

/** A zap whose first step calls a target that fails until `recover()`; the second step logs. */
async function zapFailingUntilRecovered(name: string) {
  const path = `/${crypto.randomUUID()}`
  let healthy = false
  target.on(path, () => (healthy ? Response.json({ ok: true }) : new Response('down', { status: 500 })))
  const zap = await ada.zapJson(['zaps', 'create', '--name', name, '--step', `http:${JSON.stringify({ url: `${target.url}${path}` })}`, '--step', logStep()])
  const failedRun = async () => {
    const { runId } = await ada.zapJson(['trigger', zap.id, '--data', '{"name":"Ada"}'])
    await waitUntil(async () => (await ada.zapJson(['runs', 'show', runId])).status === 'failed', `run ${runId} to fail`)
    return runId as string
  }
  return { zap, failedRun, recover: () => (healthy = true) }
}

describe('zap runs replay', () => {
  test('replays a failed run from its failed step and follows it to success', async () => {
    const flaky = await zapFailingUntilRecovered('Replayed')
    const runId = await flaky.failedRun()
    flaky.recover()
    const result = await ada.zap(['runs', 'replay', runId, '--wait'])
    expect(result.exitCode).toBe(0)
    const lines = result.stdout.trimEnd().split('\n')
    expect(lines[0]).toBe(`Replaying run ${runId} from step 1 on v1 (replay 1): following...`)
    expect(lines[1]).toMatch(/^✓ 1\. http succeeded \(1 attempt, /)
    expect(lines[2]).toMatch(/^✓ 2\. log succeeded \(1 attempt, /)
    expect(lines[3]).toBe(`Run succeeded. Details: zap runs show ${runId}`)
    expect((await ada.zap(['runs', 'show', runId])).stdout).toMatch(/^Replayed:\s+1 time, last from step 1 \(manual\)/m)
  }, 30_000)

  test('--from trigger --pinned replays on the version the run started with, even after an edit', async () => {
    const flaky = await zapFailingUntilRecovered('Pinned')
    const runId = await flaky.failedRun()
    await ada.zapJson(['zaps', 'edit', flaky.zap.id, '--step', logStep('v2')])
    flaky.recover()
    const replay = await ada.zapJson(['runs', 'replay', runId, '--from', 'trigger', '--pinned'])
    expect(replay).toEqual({ runId, version: 1, fromStep: 0, replay: 1 })
    await waitUntil(async () => (await ada.zapJson(['runs', 'show', runId])).status === 'succeeded', 'the replay to succeed')
  }, 30_000)

  test('a run that did not fail cannot be replayed, and says so', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Fine', '--step', logStep()])
    const run = await ada.zapJson(['trigger', zap.id, '--data', '{}', '--wait'])
    const result = await ada.zap(['runs', 'replay', run.id])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe('Error: Only failed runs can be replayed; this run is succeeded')
  }, 30_000)

  test('--failed replays every failed run of a zap, and a window with none queues nothing', async () => {
    const flaky = await zapFailingUntilRecovered('Bulk')
    const runs = [await flaky.failedRun(), await flaky.failedRun()]
    const future = await ada.zap(['runs', 'replay', '--failed', '--zap', flaky.zap.id, '--since', '2099-01-01T00:00:00Z', '--yes'])
    expect(future.stdout.trim()).toBe('No failed runs were replayed.')
    flaky.recover()
    const text = await ada.zap(['runs', 'replay', '--failed', '--zap', flaky.zap.id, '--since', '1h', '--yes'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toContain('Queued 2 failed runs for replay.')
    await waitUntil(async () => (await ada.zapJson(['runs', 'list', '--zap', flaky.zap.id, '--status', 'succeeded'])).length === 2, 'both replays to succeed')
    const replayed = await ada.zapJson(['runs', 'list', '--zap', flaky.zap.id])
    expect(replayed.map((run: { id: string; replay: number }) => [run.id, run.replay]).sort()).toEqual(runs.map((id) => [id, 1]).sort())
    expect(await ada.zapJson(['runs', 'replay', '--failed', '--zap', flaky.zap.id, '--yes'])).toEqual({ queued: 0, skipped: [] })
  }, 30_000)
})
