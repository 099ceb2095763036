import { afterAll, beforeAll, expect, test } from 'bun:test'
import { mkdtempSync, rmdirSync } from 'node:fs'
import { join } from 'node:path'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { createUser } from '@zap/sql/users'
import { createZap } from '@zap/sql/zaps'
import { startPostgres, type RunningPostgres } from './postgres.ts'
import { startKafka, type KafkaBroker } from './kafka.ts'
import { freePort, launchService, startService, waitUntil, type RunningService, type Service } from './services.ts'
import { startTarget } from './target.ts'
import { startWebhookLoad } from './webhook-load.ts'

/**
 * PostgreSQL out of disk, for real: zap's database lives in a tablespace on a small tmpfs (this test
 * mounts one, so it runs as root, as the test machines do), and a filler table takes what is left.
 * Reads work, writes that need a new page fail with SQLSTATE 53100. That is an outage: hooks answers
 * 503 with Retry-After, a worker writes the result of an attempt once it can instead of calling the
 * target again, services started meanwhile wait, and all of it recovers by itself once space is freed.
 */
let postgres: RunningPostgres
let kafka: KafkaBroker
let admin: Sql
let sql: Sql
let url: string
let mountDir: string
let userId: string
const target = startTarget()
const services: RunningService[] = []

beforeAll(async () => {
  ;[postgres, kafka] = await Promise.all([startPostgres(), startKafka()])
  mountDir = mkdtempSync(join('/tmp', 'zap-disk-full-'))
  run(['mount', '-t', 'tmpfs', '-o', 'size=40m,mode=0700', 'tmpfs', mountDir])
  run(['chown', 'postgres:postgres', mountDir])
  admin = connect(postgres.url, { max: 1 })
  await admin.unsafe(`create tablespace zap_small location '${mountDir}'`)
  await admin.unsafe('create database zap_small tablespace zap_small')
  const address = new URL(postgres.url)
  address.pathname = '/zap_small'
  url = address.toString()
  sql = connect(url, { max: 2 })
  await migrate(sql)
  userId = (await createUser(sql, { email: 'disk@example.com', name: 'Disk', passwordHash: 'x' }))!.id
}, 180_000)

afterAll(async () => {
  await Promise.all(services.map((service) => service.stop()))
  await sql?.end()
  await admin?.end()
  await Promise.all([postgres?.stop(), kafka?.stop()])
  if (mountDir) {
    run(['umount', mountDir])
    rmdirSync(mountDir)
  }
  target.stop()
}, 60_000)

function run(command: string[]) {
  const result = Bun.spawnSync(command, { stderr: 'pipe' })
  if (result.exitCode !== 0) throw new Error(`${command.join(' ')} failed (this test mounts a tmpfs, as root): ${result.stderr.toString()}`)
}

const env = () => ({
  DATABASE_URL: url,
  KAFKA_BROKERS: kafka.brokers,
  KAFKA_TOPIC: 'zap-disk',
  KAFKA_GROUP: 'zap-disk',
  OUTBOX_POLL_MS: '200',
  INGEST_TIMEOUT_MS: '2000',
  LOG_LEVEL: 'info',
  STEP_TIMEOUT_MS: '5000',
})

async function start(name: Service, wait = true) {
  const metrics: Record<string, string> = name === 'processor' || name === 'worker' ? { METRICS_PORT: String(await freePort()) } : {}
  const service = wait ? await startService(name, { ...env(), ...metrics }) : await launchService(name, { ...env(), ...metrics })
  services.push(service)
  return service
}

/** Fills the tablespace: big rows first, then small ones, until PostgreSQL answers 53100 for a single page. */
async function fillDisk() {
  await sql`create table filler (x text) tablespace zap_small`
  await sql`alter table filler alter column x set storage external`
  for (const size of [1_000_000, 100_000, 8_000, 1_000]) {
    for (;;) {
      const error = await sql`insert into filler select repeat('x', ${size})`.then(() => null, (error) => error)
      if (error === null) continue
      expect(error.code).toBe('53100')
      break
    }
  }
}

test('out of disk: hooks answers 503 with Retry-After, a step calls its target once, services started meanwhile wait, and all recovers once space is freed', async () => {
  const hooks = await start('hooks')
  await start('processor')
  const zap = await createZap(sql, userId, { name: 'disk', steps: [{ type: 'http', config: { method: 'POST', url: `${target.url}/disk`, body: { n: '{{trigger.body.n}}' } } }] })
  const hooksUrl = `${hooks.url}/hooks/${zap.id}`
  // Accepted before the disk fills; no worker runs yet, so their steps run while it is full.
  for (let n = 0; n < 10; n++) {
    const response = await fetch(hooksUrl, { method: 'POST', body: JSON.stringify({ n }), headers: { 'content-type': 'application/json', 'idempotency-key': `before-${n}` } })
    expect(response.status).toBe(202)
  }
  await fillDisk()

  // Started while the disk is full: a second processor, a worker and the API. One worker: a second one
  // joining would take partitions whose steps wait for the disk, and run them again (at-least-once).
  await start('processor', false)
  await start('worker', false)
  await start('api', false)
  const load = startWebhookLoad(hooksUrl, { perSecond: 40, prefix: 'full' })
  await waitUntil(() => target.requestsTo('/disk').length >= 10, 'the workers to call the target for the runs accepted before', 60_000)
  await Bun.sleep(3_000)
  const duringOutage = await load.stop()

  const refused = duringOutage.filter((answer) => answer.status === 503)
  expect(refused.length).toBeGreaterThan(0)
  expect(duringOutage.filter((answer) => answer.status !== 202 && answer.status !== 503)).toEqual([])
  for (const answer of refused) expect(answer.code).toBe('database_unavailable')
  // Every step was tried once: its result waits for the disk, it is not tried again.
  const perRun = new Map<string, number>()
  for (const request of target.requestsTo('/disk')) perRun.set(request.headers['idempotency-key']!, (perRun.get(request.headers['idempotency-key']!) ?? 0) + 1)
  expect([...perRun.values()].filter((calls) => calls > 1)).toEqual([])
  for (const service of services) expect(service.process.exitCode).toBeNull()

  await sql`drop table filler`
  const accepted = 10 + duringOutage.filter((answer) => answer.status === 202).length
  let statuses: Record<string, number> = {}
  await waitUntil(async () => {
    const rows = await sql<{ status: string; count: number }[]>`select status, count(*)::int as count from runs where zap_id = ${zap.id} group by status`
    statuses = Object.fromEntries(rows.map((row) => [row.status, row.count]))
    return statuses.succeeded === accepted
  }, () => `every accepted run to succeed once space is freed (${JSON.stringify(statuses)})`, 60_000)
  const calls = new Map<string, number>()
  for (const request of target.requestsTo('/disk')) calls.set(request.headers['idempotency-key']!, (calls.get(request.headers['idempotency-key']!) ?? 0) + 1)
  expect(calls.size).toBe(accepted)
  expect([...calls.values()].filter((count) => count > 1)).toEqual([])
  const after = await fetch(hooksUrl, { method: 'POST', body: '{"n":-1}', headers: { 'content-type': 'application/json', 'idempotency-key': 'after' } })
  expect(after.status).toBe(202)
}, 180_000)
