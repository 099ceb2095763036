import { afterAll, afterEach, beforeAll, expect, test } from 'bun:test'
import { Kafka, logLevel } from 'kafkajs'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from './postgres.ts'
import { startKafka, type KafkaBroker } from './kafka.ts'
import { freePort, launchService, waitUntil, type RunningService, type Service } from './services.ts'
import { startTarget } from './target.ts'

/**
 * Services started (or restarted, as a supervisor does) while a dependency is away: two processors
 * and two workers, with api and hooks, each started while PostgreSQL is stopped or frozen, while Kafka
 * is stopped, and after the topic was lost. Every one stays up, says it is not ready, and works once
 * the dependency is back, with no person involved. The broker creates no topic by itself, as
 * production brokers often do not.
 */
let postgres: RunningPostgres
let kafka: KafkaBroker
let sql: Sql
let userId: string
let env: Record<string, string>
const target = startTarget()
const running = new Map<string, { service: RunningService; probeUrl: string }>()
const everyService: [string, Service][] = [['api', 'api'], ['hooks', 'hooks'], ['processor-1', 'processor'], ['processor-2', 'processor'], ['worker-1', 'worker'], ['worker-2', 'worker']]
const reconcileAfterSeconds = 3

beforeAll(async () => {
  ;[postgres, kafka] = await Promise.all([startPostgres(), startKafka({ autoCreateTopics: false })])
  sql = connect(postgres.url, { max: 2 })
  await migrate(sql)
  userId = (await createUser(sql, { email: 'startup@example.com', name: 'Start-up', passwordHash: 'x' }))!.id
  env = {
    DATABASE_URL: postgres.url,
    KAFKA_BROKERS: kafka.brokers,
    KAFKA_TOPIC: 'zap-startup',
    KAFKA_GROUP: 'zap-startup',
    OUTBOX_POLL_MS: '200',
    RECONCILE_AFTER_SECONDS: String(reconcileAfterSeconds),
    LOG_LEVEL: 'info',
    RETRY_BASE_MS: '100',
    RETRY_MAX_MS: '1000',
    STEP_TIMEOUT_MS: '5000',
  }
}, 180_000)

afterEach(async () => {
  postgres.thaw()
  await stopAll()
}, 60_000)

afterAll(async () => {
  await sql?.end()
  await Promise.all([postgres?.stop(), kafka?.stop()])
  target.stop()
}, 60_000)

async function launch(key: string, name: Service) {
  const metricsPort = name === 'processor' || name === 'worker' ? String(await freePort()) : undefined
  const service = await launchService(name, { ...env, ...(metricsPort ? { METRICS_PORT: metricsPort } : {}) })
  running.set(key, { service, probeUrl: service.url ?? `http://127.0.0.1:${metricsPort}` })
}

async function stopAll() {
  await Promise.all([...running.values()].map(({ service }) => service.stop()))
  running.clear()
}

const statusOf = async (url: string) => (await fetch(url, { signal: AbortSignal.timeout(2_000) }).catch(() => null))?.status ?? 'no answer'

/** Every service is alive, answers /healthz, and its /readyz says whether it is ready. */
async function expectAll(ready: boolean, what: string, timeoutMs = 30_000) {
  let last: unknown
  await waitUntil(async () => {
    last = await Promise.all([...running].map(async ([key, { service, probeUrl }]) => ({
      key,
      exitCode: service.process.exitCode,
      healthz: await statusOf(`${probeUrl}/healthz`),
      readyz: await statusOf(`${probeUrl}/readyz`),
    })))
    return (last as { exitCode: number | null; healthz: unknown; readyz: unknown }[]).every((each) => each.exitCode === null && each.healthz === 200 && each.readyz === (ready ? 200 : 503))
  }, () => `every service to be up and ${what}: ${JSON.stringify(last)}`, timeoutMs)
}

function expectAllAlive() {
  for (const [key, { service }] of running) expect({ key, exitCode: service.process.exitCode, output: service.process.exitCode === null ? '' : service.output() }).toEqual({ key, exitCode: null, output: '' })
}

/** `count` webhooks through hooks, each a run that calls the target once; resolves once every run succeeded with one delivery each. */
async function webhooksSucceed(name: string, count: number) {
  const zap = await createZap(sql, userId, { name, steps: [{ type: 'http', config: { method: 'POST', url: `${target.url}/${name}`, body: { n: '{{trigger.body.n}}' } } }] })
  const hooksUrl = running.get('hooks')!.probeUrl
  for (let n = 0; n < count; n++) {
    const response = await fetch(`${hooksUrl}/hooks/${zap.id}`, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json', 'idempotency-key': `${name}-${n}` } })
    expect(response.status).toBe(202)
  }
  await runsSucceed(zap.id, count)
  return zap.id
}

async function runsSucceed(zapId: string, count: number, timeoutMs = 60_000) {
  let statuses: Record<string, number> = {}
  await waitUntil(async () => {
    const rows = await sql<{ status: string; count: number }[]>`select status, count(*)::int as count from runs where zap_id = ${zapId} group by status`
    statuses = Object.fromEntries(rows.map((row) => [row.status, row.count]))
    return statuses.succeeded === count
  }, () => `${count} runs to succeed (${JSON.stringify(statuses)})`, timeoutMs)
}

test('every service started while PostgreSQL is stopped stays up, is not ready, and works once PostgreSQL is back', async () => {
  await postgres.pause()
  try {
    for (const [key, name] of everyService) await launch(key, name)
    await expectAll(false, 'not ready')
    // The processor used to exit here, 0.6 s after its start.
    await Bun.sleep(3_000)
    expectAllAlive()
  } finally {
    await postgres.resume()
  }
  await expectAll(true, 'ready')
  await webhooksSucceed('after-stopped', 20)
}, 120_000)

test('every service started while PostgreSQL is frozen stays up, is not ready, and works once PostgreSQL thaws', async () => {
  postgres.freeze()
  try {
    for (const [key, name] of everyService) await launch(key, name)
    await expectAll(false, 'not ready')
    // Past the 5 s connect timeout: the first LISTEN has failed by now, and the relay used to stop for good then.
    await Bun.sleep(7_000)
    expectAllAlive()
  } finally {
    postgres.thaw()
  }
  await expectAll(true, 'ready')
  await webhooksSucceed('after-frozen', 20)
}, 120_000)

test('processors and workers started while Kafka is stopped serve /healthz, say in JSON that they wait, and work once Kafka is back', async () => {
  await kafka.pause()
  try {
    for (const [key, name] of everyService) await launch(key, name)
    const waiting = [...running].filter(([key]) => key.startsWith('processor') || key.startsWith('worker'))
    await waitUntil(async () => {
      const states = await Promise.all(waiting.map(async ([, { probeUrl }]) => [await statusOf(`${probeUrl}/healthz`), await statusOf(`${probeUrl}/readyz`)]))
      return states.every(([healthz, readyz]) => healthz === 200 && readyz === 503)
    }, 'processors and workers to answer /healthz and a not-ready /readyz', 20_000)
    for (const [key, { service }] of waiting) {
      await waitUntil(() => service.output().includes('Kafka unreachable'), `${key} to log that it waits for Kafka`)
      for (const line of service.output().trim().split('\n')) expect(() => JSON.parse(line)).not.toThrow()
    }
    // Longer than kafkajs's retries, after which both used to exit.
    await Bun.sleep(22_000)
    expectAllAlive()
  } finally {
    await kafka.resume()
  }
  await expectAll(true, 'ready', 60_000)
  await webhooksSucceed('after-kafka', 20)
}, 180_000)

test('a lost topic is made again, and runs whose messages were lost with it are handed to the outbox again and succeed', async () => {
  for (const [key, name] of everyService) await launch(key, name)
  await expectAll(true, 'ready', 60_000)
  await webhooksSucceed('before-loss', 5)
  // The workers go away; what the processors relay meanwhile is only in the topic, and the topic is lost.
  for (const key of ['worker-1', 'worker-2']) {
    await running.get(key)!.service.stop()
    running.delete(key)
  }
  const zap = await createZap(sql, userId, { name: 'lost', steps: [{ type: 'http', config: { method: 'POST', url: `${target.url}/lost`, body: { n: '{{trigger.body.n}}' } } }] })
  const post = (n: number) =>
    fetch(`${running.get('hooks')!.probeUrl}/hooks/${zap.id}`, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json', 'idempotency-key': `lost-${n}` } })
  for (let n = 0; n < 20; n++) expect((await post(n)).status).toBe(202)
  await waitUntil(async () => Number((await sql`select count(*) from outbox`)[0]!.count) === 0, 'the processors to relay every run')
  await deleteTopic(env.KAFKA_TOPIC!)
  // With no worker to make it, only a processor can: these runs go out once it made the topic again.
  for (let n = 20; n < 40; n++) expect((await post(n)).status).toBe(202)
  await waitUntil(async () => Number((await sql`select count(*) from outbox`)[0]!.count) === 0, 'the processors to make the topic again and relay to it')
  for (const key of ['worker-1', 'worker-2']) await launch(key, 'worker')
  await runsSucceed(zap.id, 40, 90_000)
  const deliveries = new Map<number, number>()
  for (const request of target.requestsTo('/lost')) deliveries.set(Number((request.json as { n: string }).n), (deliveries.get(Number((request.json as { n: string }).n)) ?? 0) + 1)
  expect(deliveries.size).toBe(40)
  // Log lines reach the output up to 250 ms after they are written (the logger's buffer): wait for them.
  const processorLogs = () => ['processor-1', 'processor-2'].map((key) => running.get(key)!.service.output()).join('\n')
  await waitUntil(() => processorLogs().includes('stranded runs to the outbox again'), 'a processor to log the runs it handed over again', 5_000)
  expect(processorLogs()).toContain(`the topic ${env.KAFKA_TOPIC} was missing`)
}, 180_000)

async function deleteTopic(topic: string) {
  const admin = new Kafka({ clientId: 'zap-startup-test', brokers: [kafka.brokers], logLevel: logLevel.NOTHING }).admin()
  await admin.connect()
  try {
    await admin.deleteTopics({ topics: [topic] })
    await waitUntil(async () => !(await admin.listTopics()).includes(topic), 'the topic to be deleted')
  } finally {
    await admin.disconnect()
  }
}

test('a port already in use stops the service with one line naming the variable to change', async () => {
  const taken = Bun.serve({ port: 0, hostname: '0.0.0.0', fetch: () => new Response('taken') })
  try {
    for (const [name, variable] of [['api', 'API_PORT'], ['hooks', 'HOOKS_PORT'], ['processor', 'METRICS_PORT'], ['worker', 'METRICS_PORT']] as const) {
      const service = await launchService(name, { ...env, [variable]: String(taken.port) })
      expect(await service.process.exited).toBe(1)
      const lines = service.output().trim().split('\n')
      for (const line of lines) expect(() => JSON.parse(line)).not.toThrow()
      expect(lines.map((line) => JSON.parse(line).msg)).toContain(`port ${taken.port} is in use: set ${variable} to a free port`)
    }
  } finally {
    taken.stop(true)
  }
}, 60_000)

test('on a database that was never migrated the API is not ready and says to run `bun run migrate`, and is ready once it is migrated', async () => {
  const url = await freshDatabase('zap_unmigrated')
  const service = await launchService('api', { ...env, DATABASE_URL: url })
  running.set('api', { service, probeUrl: service.url! })
  let readyz: { status: number; body: any } = { status: 0, body: null }
  await waitUntil(async () => {
    const response = await fetch(`${service.url}/readyz`).catch(() => null)
    readyz = { status: response?.status ?? 0, body: await response?.json().catch(() => null) }
    return readyz.status === 503
  }, 'the API to answer /readyz')
  expect(readyz.body.error.message).toContain('bun run migrate')
  const signup = await fetch(`${service.url}/api/v1/auth/signup`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ email: 'new@example.com', name: 'New', password: 'correct horse battery' }) })
  expect(signup.status).toBe(503)
  expect(signup.headers.get('retry-after')).toBe('2')
  expect(((await signup.json()) as any).error.message).toContain('bun run migrate')
  await waitUntil(() => service.output().includes('run `bun run migrate`'), 'the API to log what to do')
  const fresh = connect(url, { max: 1 })
  await migrate(fresh)
  await fresh.end()
  await waitUntil(async () => (await statusOf(`${service.url}/readyz`)) === 200, 'the API to be ready once migrated')
}, 60_000)

test('a processor and a worker on a database that does not exist say so while they retry, and work once it exists', async () => {
  const url = new URL(postgres.url)
  url.pathname = '/zap_created_later'
  const later = { ...env, DATABASE_URL: url.toString(), KAFKA_TOPIC: 'zap-created-later', KAFKA_GROUP: 'zap-created-later' }
  for (const name of ['processor', 'worker'] as const) {
    const metricsPort = String(await freePort())
    const service = await launchService(name, { ...later, METRICS_PORT: metricsPort })
    running.set(name, { service, probeUrl: `http://127.0.0.1:${metricsPort}` })
  }
  for (const [name, { service }] of running) {
    await waitUntil(() => service.output().includes('zap_created_later\\" does not exist: create it'), () => `the ${name} to say the database does not exist:\n${service.output().slice(-1500)}`)
  }
  await Bun.sleep(2_000)
  expectAllAlive()
  await freshDatabase('zap_created_later')
  const created = connect(url.toString(), { max: 1 })
  await migrate(created)
  await created.end()
  await expectAll(true, 'ready')
}, 90_000)

/** A new empty database on the test server, not migrated. */
async function freshDatabase(name: string) {
  await sql.unsafe(`create database ${name}`)
  const url = new URL(postgres.url)
  url.pathname = `/${name}`
  return url.toString()
}
