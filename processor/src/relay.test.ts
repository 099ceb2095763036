import { afterEach, describe, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import { waitUntil } from '@zap/testkit/services'
import { claimDueRows, outboxNotifier } from '@zap/sql/outbox'
import { createLogger } from '@zap/lib/log'
import type { StepMessage } from '@zap/lib/messages'
import { startRelay } from './relay.ts'

// Other tests share this database and leave outbox rows behind, so every check looks at this test's run only.

const log = createLogger('relay-test', { level: 'silent', pretty: false })
const running: { stop: () => Promise<void> }[] = []

afterEach(async () => {
  await Promise.all(running.splice(0).map((relay) => relay.stop()))
})

function memoryTransport() {
  const published: StepMessage[] = []
  const transport = {
    failing: false,
    published,
    async publish(messages: StepMessage[]) {
      if (transport.failing) throw new Error('broker unreachable')
      published.push(...messages)
    },
  }
  return transport
}

function relay(transport: ReturnType<typeof memoryTransport>, options: { batchSize?: number; pollMs?: number } = {}) {
  const started = startRelay({ sql, transport, batchSize: options.batchSize ?? 50, pollMs: options.pollMs ?? 60_000, log })
  running.push(started)
  return started
}

/** A run accepted through hooks (its first outbox row included), plus `extra` more outbox rows for it. */
async function runWithOutboxRows(extra = 0) {
  const { token } = await signUp()
  const zap = await createZap(token)
  const { body } = await call(hooks, 'POST', `/hooks/${zap.id}`, { body: { n: 1 } })
  const runId: string = body.runId
  if (extra > 0) await sql`insert into outbox (run_id, step_index) select ${runId}, i from generate_series(1, ${extra}) i`
  return runId
}

const outboxRows = async (runId: string) => Number((await sql`select count(*) from outbox where run_id = ${runId}`)[0]!.count)
const publishedFor = (transport: ReturnType<typeof memoryTransport>, runId: string) => transport.published.filter((message) => message.runId === runId)

describe('the outbox relay', () => {
  test('claims due rows, publishes them and deletes them', async () => {
    const runId = await runWithOutboxRows(120)
    const transport = memoryTransport()
    relay(transport, { batchSize: 50 })
    await waitUntil(async () => (await outboxRows(runId)) === 0, 'the outbox rows to be deleted')
    expect(publishedFor(transport, runId).map((message) => message.stepIndex).sort((a, b) => a - b)).toEqual(Array.from({ length: 121 }, (_, index) => index))
    expect(publishedFor(transport, runId)[0]).toMatchObject({ runId, attempt: 1, replay: 0 })
  })

  test('a failing publish leaves the rows, and they go out once publishing works again', async () => {
    const runId = await runWithOutboxRows(4)
    const transport = memoryTransport()
    transport.failing = true
    let attempts = 0
    const publish = transport.publish
    transport.publish = async (messages) => {
      attempts++
      return publish(messages)
    }
    relay(transport, { pollMs: 200 })
    await waitUntil(() => attempts >= 3, 'three failed publishes')
    expect(await outboxRows(runId)).toBe(5)
    expect(publishedFor(transport, runId)).toEqual([])
    transport.failing = false
    await waitUntil(async () => (await outboxRows(runId)) === 0, 'the rows to go out after the failure')
    expect(publishedFor(transport, runId)).toHaveLength(5)
  })

  test('two relays never publish the same row', async () => {
    const runId = await runWithOutboxRows(599)
    const first = memoryTransport()
    const second = memoryTransport()
    relay(first, { batchSize: 20 })
    relay(second, { batchSize: 20 })
    await waitUntil(async () => (await outboxRows(runId)) === 0, 'both relays to drain the outbox')
    const steps = [...publishedFor(first, runId), ...publishedFor(second, runId)].map((message) => message.stepIndex)
    expect(steps).toHaveLength(600)
    expect(new Set(steps).size).toBe(600)
  })

  test('a delayed row wakes the relay when it falls due, not at the next poll', async () => {
    const runId = await runWithOutboxRows()
    await sql`delete from outbox where run_id = ${runId}`
    const transport = memoryTransport()
    relay(transport, { pollMs: 60_000 })
    const delayMs = 1_500
    const insertedAt = Date.now()
    await sql`insert into outbox (run_id, step_index, available_at) values (${runId}, 0, now() + ${delayMs} * interval '1 millisecond')`
    outboxNotifier(sql)()
    await waitUntil(() => publishedFor(transport, runId).length === 1, 'the delayed row to be published', 30_000)
    const waited = Date.now() - insertedAt
    expect(waited).toBeGreaterThanOrEqual(delayMs - 50)
    // Far below the 60 s poll: the relay slept until the row was due (generous for a loaded machine).
    expect(waited).toBeLessThan(delayMs + 15_000)
  }, 45_000)

  test('stop() returns, also while a publish is in flight, and that batch is kept or deleted as a whole', async () => {
    const runId = await runWithOutboxRows(9)
    let release = () => {}
    const transport = memoryTransport()
    const publish = transport.publish
    let started = false
    transport.publish = async (messages) => {
      started = true
      await new Promise<void>((resolve) => (release = resolve))
      return publish(messages)
    }
    const stopping = relay(transport, { batchSize: 100 })
    running.pop()
    await waitUntil(() => started, 'a publish to start')
    const stopped = stopping.stop()
    release()
    await stopped
    // Rows published before the stop are deleted; the rest are still there for the next relay.
    expect((await outboxRows(runId)) + publishedFor(transport, runId).length).toBe(10)

    const idle = relay(memoryTransport())
    running.pop()
    await idle.stop()
  })

  test('the claim picks its rows once, whatever plan PostgreSQL makes of it', async () => {
    // A generic plan, as PostgreSQL caches for a prepared statement: the one that stalled on a sudden backlog was a
    // nested loop running the locking subquery once per outbox row.
    const plan = await sql.begin(async (tx) => {
      await tx`set local plan_cache_mode = force_generic_plan`
      return (await tx<{ 'QUERY PLAN': string }[]>`explain ${claimDueRows(tx, 500, true)}`).map((row) => row['QUERY PLAN']).join('\n')
    })
    expect(plan).toContain('InitPlan')
    expect(plan).toContain('LockRows')
    expect(plan).not.toContain('Nested Loop')
  })
})
