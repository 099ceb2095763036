import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { api, call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack.stop())

/** A run accepted through hooks (no pipeline runs here), then given `status`, created `minutesAgo` minutes ago. */
async function runOf(zapId: string, status: 'queued' | 'succeeded' | 'failed', minutesAgo: number) {
  const { body } = await call(hooks, 'POST', `/hooks/${zapId}`, { body: {} })
  await sql`delete from outbox where run_id = ${body.runId}`
  await sql`
    update runs set status = ${status}, created_at = now() - make_interval(mins => ${minutesAgo}),
      finished_at = ${status === 'queued' ? null : sql`now() - make_interval(mins => ${minutesAgo})`}
    where id = ${body.runId}`
  return body.runId as string
}

/** Makes `runId` a running run whose first step, a delay, is due an hour from now. */
async function heldBackByDelay(runId: string) {
  await sql`update runs set status = 'running' where id = ${runId}`
  await sql`insert into run_steps (run_id, index, type, status, attempts) values (${runId}, 0, 'delay', 'waiting', 1)`
  await sql`insert into outbox (run_id, step_index, attempt, available_at) values (${runId}, 0, 2, now() + interval '1 hour')`
}

describe('zap status', () => {
  test('counts your runs by status in the last hour and day, finds the oldest queued run and lists failures by zap; others\u2019 runs never count', async () => {
    const user = await signedUpUser(stack.apiUrl)
    const mailer = await createZap(user.token, { name: 'Mailer' })
    const sync = await createZap(user.token, { name: 'Sync' })
    await runOf(mailer.id, 'failed', 1)
    await runOf(mailer.id, 'succeeded', 120)
    const oldestQueued = await runOf(mailer.id, 'queued', 10)
    await runOf(mailer.id, 'queued', 0)
    await heldBackByDelay(await runOf(sync.id, 'queued', 5))
    await runOf(sync.id, 'failed', 180)
    await runOf(sync.id, 'failed', 200)
    await runOf(sync.id, 'failed', 3 * 24 * 60)
    const stranger = await signUp()
    const theirs = await createZap(stranger.token)
    await runOf(theirs.id, 'failed', 1)
    await runOf(theirs.id, 'queued', 500)

    const { status, body } = await call(api, 'GET', '/api/v1/status', { token: user.token })
    expect(status).toBe(200)
    expect(body.status).toMatchObject({
      lastHour: { queued: 2, waiting: 1, running: 0, succeeded: 0, failed: 1, debounced: 0, cancelled: 0 },
      lastDay: { queued: 2, waiting: 1, running: 0, succeeded: 1, failed: 3, debounced: 0, cancelled: 0 },
      oldestQueued: { runId: oldestQueued, zapId: mailer.id },
      failuresByZap: [
        { zapId: sync.id, zapName: 'Sync', failed: 2 },
        { zapId: mailer.id, zapName: 'Mailer', failed: 1 },
      ],
    })
    expect(body.status.oldestQueued.ageSeconds).toBeGreaterThanOrEqual(595)
    expect(body.status.oldestQueued.ageSeconds).toBeLessThan(1_200)

    const json = await user.zapJson(['status'])
    expect({ ...json, oldestQueued: { ...json.oldestQueued, ageSeconds: 0 } }).toEqual({ ...body.status, oldestQueued: { ...body.status.oldestQueued, ageSeconds: 0 } })
    const text = await user.zap(['status'])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toMatch(/RUNS\s+QUEUED\s+WAITING\s+RUNNING/)
    expect(text.stdout).toMatch(/last hour\s+2\s+1\s+0\s+0\s+1\s+0/)
    expect(text.stdout).toMatch(/last day\s+2\s+1\s+0\s+1\s+3\s+0/)
    expect(text.stdout).toContain(`Oldest queued run: ${oldestQueued}`)
    expect(text.stdout).toMatch(new RegExp(`${sync.id}\\s+Sync\\s+2`))
    expect((await call(api, 'GET', '/api/v1/status')).status).toBe(401)
  }, 60_000)

  test('a user with no runs sees zeros, no queued run and no failures', async () => {
    const user = await signedUpUser(stack.apiUrl)
    expect(await user.zapJson(['status'])).toEqual({
      lastHour: { queued: 0, waiting: 0, running: 0, succeeded: 0, failed: 0, debounced: 0, cancelled: 0 },
      lastDay: { queued: 0, waiting: 0, running: 0, succeeded: 0, failed: 0, debounced: 0, cancelled: 0 },
      oldestQueued: null,
      failuresByZap: [],
    })
    const text = await user.zap(['status'])
    expect(text.stdout).toContain('Oldest queued run: none')
    expect(text.stdout).toContain('No failed runs in the last day.')
  }, 60_000)
})
