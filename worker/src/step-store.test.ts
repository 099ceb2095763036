import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp, sql } from '@zap/testkit/http'
import type { StepRecord } from '@zap/sql/execution'
import { createStepStore } from './step-store.ts'

// Every statement the store sends, seen through postgres.js' debug hook on the shared pool.
const statements: string[] = []
const options = sql.options as unknown as { debug?: (connection: number, query: string) => void }
const counting = (work: () => Promise<unknown>) => async () => {
  statements.length = 0
  options.debug = (_connection, query) => statements.push(query)
  try {
    await work()
  } finally {
    options.debug = undefined
  }
}
const store = createStepStore(sql, { batchMs: 5, maxBatch: 100 })
const transform = { type: 'transform', config: { output: { n: 1 } } }
let zapId: string

beforeAll(async () => {
  const { token } = await signUp()
  zapId = (await createZap(token, { steps: [transform, transform, transform] })).id
})
afterAll(() => (options.debug = undefined))

async function queuedRun() {
  const response = await call(hooks, 'POST', `/hooks/${zapId}`, { body: {} })
  expect(response.status).toBe(202)
  const runId = response.body.runId as string
  await sql`delete from outbox where run_id = ${runId}`
  return runId
}

const attempt = (runId: string, changes: Partial<StepRecord> = {}): StepRecord => ({
  runId,
  stepIndex: 0,
  type: 'transform',
  attempt: 1,
  status: 'succeeded',
  input: { config: { output: { n: 1 } } },
  output: { n: 1 },
  error: null,
  startedAt: new Date(),
  next: { stepIndex: 1, attempt: 1, availableAt: new Date(), replay: 0 },
  runStatus: 'running',
  ...changes,
})

const stateOf = async (runId: string) => {
  const [run] = await sql`
    select r.status, r.finished_at is not null as finished,
      (select json_agg(json_build_object('index', s.index, 'status', s.status, 'attempts', s.attempts, 'output', s.output, 'error', s.error) order by s.index) from run_steps s where s.run_id = r.id) as steps,
      (select json_agg(json_build_object('step', o.step_index, 'attempt', o.attempt) order by o.step_index, o.attempt) from outbox o where o.run_id = r.id) as outbox
    from runs r where r.id = ${runId}`
  return run
}

const recordStatements = () => statements.filter((query) => query.includes('insert into run_steps'))

describe('the worker’s step store', () => {
  test(
    'attempts recorded together are stored by one statement, each as it would be alone: the step, what follows it, the run',
    counting(async () => {
      const [going, done, retrying, stopped] = await Promise.all([queuedRun(), queuedRun(), queuedRun(), queuedRun()])
      statements.length = 0
      const recorded = await Promise.all([
        store.record(attempt(going!)),
        store.record(attempt(done!, { stepIndex: 0, next: null, runStatus: 'succeeded', skipRemaining: { through: 2, reason: 'filtered out' } })),
        store.record(attempt(retrying!, { status: 'retrying', output: { status: 503 }, error: 'HTTP 503', next: { stepIndex: 0, attempt: 2, availableAt: new Date(Date.now() + 60_000), replay: 0 } })),
        store.record(attempt(stopped!, { status: 'failed', error: 'HTTP 400', next: null, runStatus: 'failed' })),
      ])
      expect(recorded).toEqual([true, true, true, true])
      expect(recordStatements()).toHaveLength(1)
      expect(await stateOf(going!)).toEqual({ status: 'running', finished: false, steps: [{ index: 0, status: 'succeeded', attempts: 1, output: { n: 1 }, error: null }], outbox: [{ step: 1, attempt: 1 }] })
      expect(await stateOf(done!)).toMatchObject({
        status: 'succeeded',
        finished: true,
        steps: [{ index: 0, status: 'succeeded' }, { index: 1, status: 'skipped', error: 'filtered out' }, { index: 2, status: 'skipped', error: 'filtered out' }],
        outbox: null,
      })
      expect(await stateOf(retrying!)).toMatchObject({ status: 'running', finished: false, steps: [{ status: 'retrying', attempts: 1, error: 'HTTP 503' }], outbox: [{ step: 0, attempt: 2 }] })
      expect(await stateOf(stopped!)).toMatchObject({ status: 'failed', finished: true, steps: [{ status: 'failed', error: 'HTTP 400' }], outbox: null })
    }),
  )

  test(
    'a redelivered attempt is not recorded again, and two attempts of one run in a batch each count once, in order',
    counting(async () => {
      const runId = await queuedRun()
      const retry = attempt(runId, { status: 'retrying', error: 'HTTP 503', next: { stepIndex: 0, attempt: 2, availableAt: new Date(), replay: 0 } })
      expect(await Promise.all([store.record(retry), store.record(retry), store.record(attempt(runId, { attempt: 2 }))])).toEqual([true, false, true])
      expect(recordStatements()).toHaveLength(3)
      expect(await store.record(attempt(runId, { attempt: 2 }))).toBe(false)
      expect(await stateOf(runId)).toMatchObject({ status: 'running', steps: [{ status: 'succeeded', attempts: 2 }], outbox: [{ step: 0, attempt: 2 }, { step: 1, attempt: 1 }] })
    }),
  )

  test(
    'an attempt PostgreSQL refuses fails alone: the others of its batch are recorded',
    counting(async () => {
      const [good, bad] = await Promise.all([queuedRun(), queuedRun()])
      const results = await Promise.allSettled([store.record(attempt(good!)), store.record(attempt(bad!, { error: 'nul \u0000 byte', status: 'failed', next: null, runStatus: 'failed' }))])
      expect(results[0]).toEqual({ status: 'fulfilled', value: true })
      expect(results[1]!.status).toBe('rejected')
      expect(await stateOf(good!)).toMatchObject({ status: 'running', steps: [{ status: 'succeeded' }] })
      expect(await stateOf(bad!)).toMatchObject({ status: 'queued', steps: null })
    }),
  )

  test(
    'contexts asked for together load in one statement, each with its own run; a run that is gone is null',
    counting(async () => {
      const [first, second] = await Promise.all([queuedRun(), queuedRun()])
      await store.record(attempt(second!))
      statements.length = 0
      const [a, b, gone] = await Promise.all([store.loadContext(first!), store.loadContext(second!), store.loadContext(crypto.randomUUID())])
      expect(statements.filter((query) => query.includes('from runs r'))).toHaveLength(1)
      expect(a).toMatchObject({ zapId, status: 'queued', recorded: [] })
      expect(b).toMatchObject({ zapId, status: 'running', recorded: [{ index: 0, status: 'succeeded', attempts: 1, output: { n: 1 } }] })
      expect(a!.steps).toHaveLength(3)
      expect(gone).toBeNull()
    }),
  )
})
