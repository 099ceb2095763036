import { afterAll, beforeAll, expect, test } from 'bun:test'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from './postgres.ts'
import { startKafka, type KafkaBroker } from './kafka.ts'
import { freePort, startService, stopProcess, waitUntil, type RunningService, type Service } from './services.ts'
import { startTarget } from './target.ts'
import { startWebhookLoad, type WebhookAnswer } from './webhook-load.ts'

/**
 * The fault suite: the real services as separate processes on a PostgreSQL server and a Kafka broker
 * this file controls, each fault under a steady webhook load with every answer recorded, then checked
 * against the database and the target. FAULT_SOAK_SECONDS lengthens the load around each fault.
 */
const soakMs = Number(Bun.env.FAULT_SOAK_SECONDS ?? 0) * 1000
const perSecond = 40
const steadyMs = Math.max(2_000, soakMs / 2)
const afterMs = Math.max(3_000, soakMs / 2)
const ingestTimeoutMs = 2_000
// Stated bounds: every webhook is answered within the ingest deadline plus scheduling slack on a loaded
// machine, and every run accepted before the fault ended has succeeded this long after it ended.
const answerBoundMs = ingestTimeoutMs + 3_000
const recoveryBoundMs = 30_000

let postgres: RunningPostgres
let kafka: KafkaBroker
let sql: Sql
let userId: string
const target = startTarget()
const services = new Map<string, { name: Service; service: RunningService }>()
let env: Record<string, string>
const measured: string[] = []

beforeAll(async () => {
  ;[postgres, kafka] = await Promise.all([startPostgres({ crashSafe: true }), startKafka()])
  sql = connect(postgres.url, { max: 2 })
  await migrate(sql)
  userId = (await createUser(sql, { email: 'faults@example.com', name: 'Faults', passwordHash: 'x' }))!.id
  env = {
    DATABASE_URL: postgres.url,
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_TOPIC: 'zap-faults',
    KAFKA_GROUP: 'zap-faults',
    OUTBOX_POLL_MS: '200',
    INGEST_TIMEOUT_MS: String(ingestTimeoutMs),
    HOOKS_PORT: String(await freePort()),
    LOG_LEVEL: 'info',
    // Retries quick enough for a test, attempts long enough for a target slowed down by a loaded machine.
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '1000',
    STEP_TIMEOUT_MS: '5000',
    STEP_MAX_ATTEMPTS: '10',
  }
  // The processor first: it creates the topic the workers subscribe to.
  await start('hooks', 'hooks')
  await start('api', 'api')
  await start('processor', 'processor')
  await start('worker-1', 'worker')
  await start('worker-2', 'worker')
}, 180_000)

afterAll(async () => {
  if (Bun.env.FAULT_LOG_DIR) for (const [key, { service }] of services) await Bun.write(`${Bun.env.FAULT_LOG_DIR}/${key}.log`, service.output())
  await Promise.all([...services.values()].map(({ service }) => service.stop()))
  await sql?.end()
  await Promise.all([postgres?.stop(), kafka?.stop()])
  target.stop()
  console.log(`fault suite (${perSecond} webhooks/s):\n${measured.join('\n')}`)
}, 60_000)

async function start(key: string, name: Service) {
  services.set(key, { name, service: await startService(name, env) })
}

async function kill(key: string) {
  await stopProcess(services.get(key)!.service.process, 'SIGKILL')
  services.delete(key)
}

type Fault = {
  inject: () => Promise<void>
  recover: () => Promise<void>
  outageMs: number
  /** PostgreSQL is away between inject and recover: webhooks must be answered 503 in time, never time out. */
  databaseDown?: boolean
  /** The target takes this long to answer every tenth webhook's step, so steps are in flight when the fault begins. */
  targetDelayMs?: number
  /** The fault (once `inject` returned) must not leave a step it started for another call of the target. */
  startedStepsFinish?: boolean
}

async function underLoad(name: string, fault: Fault) {
  const path = `/fault/${name}`
  const zap = await createZap(sql, userId, { name, steps: [{ type: 'http', config: { method: 'POST', url: `${target.url}${path}`, body: { n: '{{trigger.body.n}}' } } }] })
  if (fault.targetDelayMs) {
    target.on(path, async (request) => {
      if (Number((request.json as { n: string }).n) % 10 === 0) await Bun.sleep(fault.targetDelayMs!)
      return Response.json({ ok: true })
    })
  }
  const hooksOutput = () => services.get('hooks')?.service.output() ?? ''
  const outagesLogged = count(hooksOutput(), 'database unreachable')
  const load = startWebhookLoad(`http://127.0.0.1:${env.HOOKS_PORT}/hooks/${zap.id}`, { perSecond, prefix: name })
  await Bun.sleep(steadyMs)
  await fault.inject()
  const downFrom = Date.now()
  if (fault.databaseDown) {
    for (const key of ['api', 'hooks']) {
      const asked = Date.now()
      const ready = await fetch(`${services.get(key)!.service.url}/readyz`)
      expect({ key, status: ready.status, withinASecond: Date.now() - asked < 1_000 }).toEqual({ key, status: 503, withinASecond: true })
    }
  }
  await Bun.sleep(Math.max(0, fault.outageMs - (Date.now() - downFrom)))
  const downUntil = Date.now()
  await fault.recover()
  const recoveredAt = Date.now()
  await Bun.sleep(afterMs)
  const answers = await load.stop()

  for (const [key, { service }] of services) expect({ key, exitCode: service.process.exitCode }).toEqual({ key, exitCode: null })
  const runs = await runsOf(zap.id, answers, recoveredAt)
  const byStatus = tally(answers)
  const definite503 = answers.filter((answer) => answer.status === 503 && answer.code !== 'outcome_unknown')
  const unknown = new Set(answers.filter((answer) => answer.code === 'outcome_unknown' || typeof answer.status === 'string').map((answer) => answer.key))

  // Every 2xx is a stored run, and nothing answered 503 is stored, then or later.
  for (const answer of answers.filter((each) => each.status === 202)) expect(runs.get(answer.key)?.id).toBe(answer.runId!)
  expect(definite503.filter((answer) => runs.has(answer.key))).toEqual([])
  for (const key of runs.keys()) if (!answers.some((answer) => answer.key === key && answer.status === 202)) expect(unknown.has(key)).toBe(true)
  expect(byStatus['202'] ?? 0).toBeGreaterThan(0)

  // Every run succeeds; a run delivered twice carries the same Idempotency-Key both times.
  expect([...runs.values()].filter((run) => run.status !== 'succeeded')).toEqual([])
  const deliveries = target.requestsTo(path)
  const keysOfN = new Map<number, Set<string>>()
  for (const delivery of deliveries) {
    const n = Number((delivery.json as { n: string }).n)
    keysOfN.set(n, (keysOfN.get(n) ?? new Set()).add(delivery.headers['idempotency-key']!))
  }
  for (const [key, run] of runs) {
    const n = Number(key.slice(name.length + 1))
    expect({ n, keys: [...(keysOfN.get(n) ?? [])] }).toEqual({ n, keys: [`${run.id}:0`] })
  }
  const duplicates = deliveries.length - keysOfN.size
  // The steps in flight when the fault began ran to their end then: none was called again.
  if (fault.startedStepsFinish) {
    const calledBefore = new Set(deliveries.filter((delivery) => delivery.at < downFrom).map((delivery) => delivery.headers['idempotency-key']))
    expect(deliveries.filter((delivery) => delivery.at >= downFrom && calledBefore.has(delivery.headers['idempotency-key']))).toEqual([])
  }

  // Answers are prompt: 503 during a database outage, never a client timeout.
  expect(answers.filter((answer) => answer.status === 'timeout')).toEqual([])
  expect(answers.filter((answer) => typeof answer.status === 'number' && answer.ms > answerBoundMs)).toEqual([])
  if (fault.databaseDown) {
    const duringOutage = answers.filter((answer) => answer.sentAt > downFrom + 200 && answer.sentAt + answer.ms < downUntil)
    expect(duringOutage.length).toBeGreaterThan(0)
    expect(duringOutage.filter((answer) => answer.status !== 503)).toEqual([])
    expect(answers.filter((answer) => typeof answer.status === 'string')).toEqual([])
    expect(count(hooksOutput(), 'database unreachable')).toBe(outagesLogged + 1)
  }
  const refusedOutsideOutage = answers.filter((answer) => answer.status === 503 && !fault.databaseDown)
  const refusedAt = refusedOutsideOutage.map((answer) => answer.sentAt - downFrom)
  const refusals = refusedAt.length === 0 ? '' : `${refusedAt.length} answered 503 (${[...new Set(refusedOutsideOutage.map((answer) => answer.message))].join('; ')}), sent ${Math.min(...refusedAt)}..${Math.max(...refusedAt)} ms after the fault began; `
  const firstAcceptedAfter = Math.min(...answers.filter((answer) => answer.status === 202 && answer.sentAt >= recoveredAt).map((answer) => answer.sentAt)) - recoveredAt
  const recovery = runs.recoveryMs
  expect(recovery).toBeLessThan(recoveryBoundMs)
  measured.push(
    `  ${name}: ${JSON.stringify(byStatus)}; ${refusals}slowest answer ${Math.max(...answers.map((answer) => answer.ms))} ms; ` +
      `first 202 sent ${Math.max(0, firstAcceptedAfter)} ms after recovery; runs accepted before recovery all done ${recovery} ms after it; ` +
      `slowest run ${runs.slowestRunMs} ms from webhook to success; ` +
      `${duplicates} duplicate deliveries`,
  )
}

/** The scenario's stored runs by idempotency key, once all have finished, and when the last one from before recovery did. */
async function runsOf(zapId: string, answers: WebhookAnswer[], recoveredAt: number) {
  type Row = { key: string; id: string; status: string; createdAt: Date; finishedAt: Date | null; error: string | null; attempts: number | null }
  let rows: Row[] = []
  await waitUntil(async () => {
    rows = await sql<Row[]>`
      select r.idempotency_key as key, r.id, r.status, r.created_at as "createdAt", r.finished_at as "finishedAt", s.error, s.attempts
      from runs r left join run_steps s on s.run_id = r.id and s.index = 0 where r.zap_id = ${zapId}`
    return rows.length >= answers.filter((answer) => answer.status === 202).length && rows.every((row) => row.status === 'succeeded' || row.status === 'failed')
  }, () => `every run to finish (${rows.filter((row) => row.finishedAt === null).length} of ${rows.length} not yet)`, 90_000)
  const before = rows.filter((row) => row.createdAt.getTime() <= recoveredAt)
  const lastFinished = Math.max(recoveredAt, ...before.map((row) => row.finishedAt!.getTime()))
  const slowestRunMs = Math.max(...rows.map((row) => row.finishedAt!.getTime() - row.createdAt.getTime()))
  return Object.assign(new Map(rows.map((row) => [row.key, row])), { recoveryMs: lastFinished - recoveredAt, slowestRunMs })
}

const tally = (answers: WebhookAnswer[]) =>
  answers.reduce<Record<string, number>>((counts, { status, code }) => {
    const label = status === 503 ? `503 ${code}` : String(status)
    return { ...counts, [label]: (counts[label] ?? 0) + 1 }
  }, {})

const count = (text: string, phrase: string) => text.split(phrase).length - 1

const restartAfterKill = (key: string, name: Service, outageMs: number): Fault => ({
  inject: () => kill(key),
  recover: () => start(key, name),
  outageMs,
})

test('kill -9 of hooks: webhooks are refused while it is gone, and every 2xx before and after is a run that succeeds', async () => {
  await underLoad('hooks-killed', restartAfterKill('hooks', 'hooks', 1_000))
}, 120_000)

test('kill -9 of the processor: claimed outbox rows go out once it is back, every run succeeds', async () => {
  await underLoad('processor-killed', restartAfterKill('processor', 'processor', 2_000))
}, 120_000)

test('kill -9 of a worker: the other worker takes its partitions within seconds, every run succeeds', async () => {
  // Longer than the 6 s session, so the survivor takes over before the killed worker is back.
  await underLoad('worker-killed', restartAfterKill('worker-1', 'worker', 8_000))
}, 120_000)

test('SIGTERM of a worker while its steps call a slow target: it finishes them before leaving the group, and none of them is called again', async () => {
  let exitCode: number | undefined
  await underLoad('worker-stopped', {
    inject: async () => {
      exitCode = await services.get('worker-1')!.service.stop('SIGTERM')
      services.delete('worker-1')
    },
    recover: () => start('worker-1', 'worker'),
    outageMs: 2_000,
    targetDelayMs: 4_000,
    startedStepsFinish: true,
  })
  expect(exitCode).toBe(0)
}, 120_000)

for (const mode of ['fast', 'immediate'] as const) {
  test(`PostgreSQL stop -m ${mode}: webhooks are answered 503 in time, nothing 503 is stored, and every service resumes by itself`, async () => {
    await underLoad(`postgres-${mode}`, { inject: () => postgres.pause(mode), recover: () => postgres.resume(), outageMs: 3_000, databaseDown: true })
    const ready = await fetch(`${services.get('api')!.service.url}/readyz`)
    expect(ready.status).toBe(200)
  }, 120_000)
}

test('Kafka killed with SIGKILL and restarted: webhooks are still accepted, and every run succeeds once it is back', async () => {
  await underLoad('kafka-killed', { inject: () => kafka.kill(), recover: () => kafka.resume(), outageMs: 5_000 })
}, 180_000)

test('two processors at once share the outbox: every run succeeds and none is delivered under two keys', async () => {
  await underLoad('two-processors', { inject: () => start('processor-2', 'processor'), recover: () => services.get('processor-2')!.service.stop().then(() => {
    services.delete('processor-2')
  }), outageMs: Math.max(4_000, soakMs / 2) })
}, 120_000)

test('after every fault every service still stops cleanly within a second of SIGTERM (no connection left hanging)', async () => {
  for (const [key, { service }] of services) {
    const asked = Date.now()
    const exitCode = await service.stop()
    expect({ key, exitCode, withinASecond: Date.now() - asked < 1_000 }).toEqual({ key, exitCode: 0, withinASecond: true })
    services.delete(key)
  }
}, 60_000)
