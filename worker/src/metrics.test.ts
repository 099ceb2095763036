import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startPipeline, testKafka, waitForConsumed, type Pipeline } from '@zap/testkit/pipeline'
import { fetchJson, freePort, requireEnv, startService, waitUntil, type RunningService } from '@zap/testkit/services'
import { startTarget } from '@zap/testkit/target'
import { scrape, type Scrape } from '@zap/testkit/metrics'
import { consumerLagReader } from '@zap/lib/kafka'
import { connect } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import rootPackage from '../../package.json' with { type: 'json' }

const target = startTarget()
target.on('/down', () => new Response('nope', { status: 500 }))
let api: RunningService
let hooks: RunningService
let pipeline: Pipeline
let hooksMetrics: string
let processorMetrics: string
let workerMetrics: string

// The test's own database: other test files leave queued runs in the shared one, which this pipeline would run too.
const sharedUrl = new URL(requireEnv('DATABASE_URL'))
const databaseName = `zap_metrics_${crypto.randomUUID().slice(0, 8)}`
const databaseUrl = Object.assign(new URL(sharedUrl), { pathname: `/${databaseName}` }).toString()

async function onServer(statement: string) {
  const admin = connect(sharedUrl.toString(), { max: 1 })
  try {
    await admin.unsafe(statement)
  } finally {
    await admin.end()
  }
}

beforeAll(async () => {
  await onServer(`create database ${databaseName}`)
  const sql = connect(databaseUrl, { max: 1 })
  await migrate(sql)
  await sql.end()
  const own = { DATABASE_URL: databaseUrl }
  const [hooksPort, processorPort, workerPort] = [await freePort(), await freePort(), await freePort()]
  hooksMetrics = `http://127.0.0.1:${hooksPort}`
  processorMetrics = `http://127.0.0.1:${processorPort}`
  workerMetrics = `http://127.0.0.1:${workerPort}`
  ;[api, hooks, pipeline] = await Promise.all([
    startService('api', own),
    startService('hooks', { ...own, METRICS_PORT: String(hooksPort) }),
    startPipeline({ ...own, STEP_MAX_ATTEMPTS: '2' }, { processor: { METRICS_PORT: String(processorPort) }, worker: { METRICS_PORT: String(workerPort) } }),
  ])
}, 120_000)

afterAll(async () => {
  await Promise.all([api?.stop(), hooks?.stop(), pipeline?.stop()])
  target.stop()
  await onServer(`drop database if exists ${databaseName} with (force)`)
}, 30_000)

const scrapeAll = async () => ({ hooks: await scrape(hooksMetrics), processor: await scrape(processorMetrics), worker: await scrape(workerMetrics) })
const lagOf = (worker: Scrape) => worker.value('zap_consumer_lag_messages', { topic: pipeline.topic })

/** Counting starts once the pipeline is idle (the first scrape may still see start-up work). */
async function settled() {
  let last = ''
  await waitUntil(async () => {
    const { processor, worker } = await scrapeAll()
    const now = JSON.stringify([processor.value('zap_outbox_messages_published_total'), worker.value('zap_step_executions_total')])
    const quiet = now === last && processor.value('zap_outbox_oldest_due_seconds') === 0 && lagOf(worker) === 0
    last = now
    return quiet
  }, 'the pipeline to be idle', 60_000)
}

describe('Prometheus metrics', () => {
  test('each service serves the text format with process metrics, and the counters move by exactly what was sent, accepted, rejected and failed', async () => {
    const signup = await fetchJson(`${api.url}/api/v1/auth/signup`, { method: 'POST', body: JSON.stringify({ email: `metrics-${crypto.randomUUID()}@example.com`, password: 'correct horse battery', name: 'Metrics' }) })
    const token = signup.body.token as string
    const createZap = async (input: object) => (await fetchJson(`${api.url}/api/v1/zaps`, { method: 'POST', token, body: JSON.stringify({ name: 'metrics', ...input }) })).body.zap.id as string
    const fine = await createZap({ steps: [{ type: 'log', config: { message: 'hi' } }] })
    const failing = await createZap({ steps: [{ type: 'log', config: { message: 'hi' } }, { type: 'http', config: { url: `${target.url}/down` } }] })
    const signed = await createZap({ steps: [{ type: 'log', config: { message: 'hi' } }], secret: 'whsec_' + Buffer.from('a metrics secret of some length').toString('base64') })

    const apiScrape = await scrape(api.url!)
    for (const scraped of [apiScrape, ...Object.values(await scrapeAll())]) {
      expect(scraped.value('process_cpu_seconds_total')).toBeGreaterThan(0)
      expect(scraped.value('process_resident_memory_bytes')).toBeGreaterThan(0)
    }
    await settled()
    const before = await scrapeAll()

    const post = (zapId: string, headers: Record<string, string> = {}, body = '{"n":1}') => fetchJson(`${hooks.url}/hooks/${zapId}`, { method: 'POST', body, headers })
    const accepted = [await post(fine), await post(fine), await post(fine, { 'idempotency-key': 'metrics-once' }), await post(failing), await post(failing)]
    const duplicate = await post(fine, { 'idempotency-key': 'metrics-once' })
    const unknown = [await post(crypto.randomUUID()), await post(crypto.randomUUID())]
    const unsigned = await post(signed)
    const malformed = await post(fine, {}, '{"n":')
    expect(accepted.map((response) => response.status)).toEqual([202, 202, 202, 202, 202])
    expect([duplicate.status, ...unknown.map((response) => response.status), unsigned.status, malformed.status]).toEqual([200, 404, 404, 401, 400])
    // Through this test's api: the runs are in its own database.
    const statusOf = async (runId: string) => (await fetchJson(`${api.url}/api/v1/runs/${runId}`, { token })).body.run.status as string
    const finished = async () => Promise.all(accepted.map((response) => statusOf(response.body.runId)))
    await waitUntil(async () => (await finished()).every((status) => status === 'succeeded' || status === 'failed'), 'the runs to finish', 30_000)
    expect(await finished()).toEqual(['succeeded', 'succeeded', 'succeeded', 'failed', 'failed'])
    await waitForConsumed(pipeline.topic, pipeline.group)
    await waitUntil(async () => lagOf(await scrape(workerMetrics)) === 0, 'the lag gauge to read 0')

    const after = await scrapeAll()
    const moved = (service: keyof typeof after, name: string, labels?: Record<string, string>) => after[service].value(name, labels) - before[service].value(name, labels)
    expect({
      accepted: moved('hooks', 'zap_webhooks_received_total', { outcome: 'accepted' }),
      duplicate: moved('hooks', 'zap_webhooks_received_total', { outcome: 'duplicate' }),
      notFound: moved('hooks', 'zap_webhooks_received_total', { outcome: 'rejected', reason: 'not_found' }),
      badSignature: moved('hooks', 'zap_webhooks_received_total', { outcome: 'rejected', reason: 'invalid_signature' }),
      rejected: moved('hooks', 'zap_webhooks_received_total', { outcome: 'rejected' }),
      failed: moved('hooks', 'zap_webhooks_received_total', { outcome: 'failed' }),
      ingestTimed: moved('hooks', 'zap_webhook_ingest_duration_seconds_count'),
      published: moved('processor', 'zap_outbox_messages_published_total'),
      logSucceeded: moved('worker', 'zap_step_executions_total', { type: 'log', outcome: 'succeeded' }),
      httpRetrying: moved('worker', 'zap_step_executions_total', { type: 'http', outcome: 'retrying' }),
      httpFailed: moved('worker', 'zap_step_executions_total', { type: 'http', outcome: 'failed' }),
      httpTimed: moved('worker', 'zap_step_duration_seconds_count', { type: 'http' }),
      retries: moved('worker', 'zap_step_retries_scheduled_total'),
      runsSucceeded: moved('worker', 'zap_runs_finished_total', { status: 'succeeded' }),
      runsFailed: moved('worker', 'zap_runs_finished_total', { status: 'failed' }),
    }).toEqual({
      accepted: 5,
      duplicate: 1,
      notFound: 2,
      badSignature: 1,
      rejected: 4,
      failed: 0,
      ingestTimed: 10,
      // 3 one-step runs, and 2 runs of a log step and two http attempts.
      published: 3 + 2 * 3,
      logSucceeded: 5,
      httpRetrying: 2,
      httpFailed: 2,
      httpTimed: 4,
      retries: 2,
      runsSucceeded: 3,
      runsFailed: 2,
    })
    expect(after.worker.samples('zap_consumer_lag_messages').filter((sample) => sample.labels.topic === pipeline.topic)).toHaveLength(6)
    expect(after.processor.value('zap_outbox_oldest_due_seconds')).toBe(0)
    // Nothing names a zap or a user.
    // The API counts its requests by route pattern and status.
    const apiAfter = await scrape(api.url!)
    expect(apiAfter.value('zap_http_requests_total', { method: 'POST', route: '/api/v1/zaps', status: '201' })).toBe(3)
    expect(apiAfter.value('zap_http_requests_total', { method: 'GET', route: '/api/v1/runs/:id', status: '200' })).toBeGreaterThanOrEqual(5)
    expect(apiAfter.value('zap_http_request_duration_seconds_count', { method: 'POST', route: '/api/v1/auth/signup' })).toBe(1)
    expect(apiAfter.samples('zap_http_requests_total').map((sample) => sample.labels.route)).not.toContain(`/api/v1/runs/${accepted[0]!.body.runId}`)
    const labelNames = Object.values(after).flatMap((scraped) => scraped.families.flatMap((family) => family.metrics.flatMap((sample) => Object.keys(sample.labels ?? {}))))
    expect(new Set(labelNames).isDisjointFrom(new Set(['zap', 'zapId', 'zap_id', 'user', 'userId', 'user_id']))).toBe(true)
  }, 120_000)

  test('each service shows only its own metrics, and hooks serves them on its metrics port, not the public one', async () => {
    expect((await fetch(`${hooks.url}/metrics`)).status).toBe(404)
    const families = async (url: string) => new Set((await scrape(url)).families.map((family) => family.name.replace(/_(count|sum|bucket)$/, '')).filter((name) => name.startsWith('zap_')))
    expect([...(await families(hooksMetrics))].sort()).toEqual(['zap_build_info', 'zap_webhook_ingest_duration_seconds', 'zap_webhooks_received_total'])
    expect([...(await families(api.url!))].sort()).toEqual(['zap_build_info', 'zap_http_request_duration_seconds', 'zap_http_requests_total'])
    expect([...(await families(processorMetrics))].sort()).toEqual(['zap_build_info', 'zap_outbox_depth', 'zap_outbox_messages_published_total', 'zap_outbox_oldest_due_seconds', 'zap_runs_pruned_total', 'zap_runs_reconciled_total'])
    const worker = await families(workerMetrics)
    expect(worker.has('zap_step_executions_total') && worker.has('zap_consumer_lag_messages')).toBe(true)
    expect([...worker].filter((name) => name.startsWith('zap_webhook') || name.startsWith('zap_outbox') || name.startsWith('zap_http'))).toEqual([])
  })

  test('hooks, the processor and the worker answer /healthz and /readyz on their metrics port', async () => {
    for (const url of [hooksMetrics, processorMetrics, workerMetrics]) {
      expect((await fetchJson(`${url}/healthz`)).body).toEqual({ status: 'ok', version: rootPackage.version })
      expect((await fetchJson(`${url}/readyz`)).body).toEqual({ status: 'ready' })
    }
  })

  test("every service reports the root package.json's version on /healthz and as zap_build_info", async () => {
    expect(rootPackage.version).toMatch(/^0\.\d+\.\d+$/)
    for (const url of [api.url!, hooksMetrics, processorMetrics, workerMetrics]) {
      expect((await fetchJson(`${url}/healthz`)).body).toEqual({ status: 'ok', version: rootPackage.version })
      const scraped = await scrape(url)
      expect(scraped.samples('zap_build_info')).toEqual([{ labels: { version: rootPackage.version }, value: 1 }])
    }
  })

  test('consumer lag counts what the group has not committed, per partition', async () => {
    const kafka = testKafka()
    const topic = `zap-lag-${crypto.randomUUID().slice(0, 8)}`
    const group = `zap-lag-group-${crypto.randomUUID().slice(0, 8)}`
    const admin = kafka.admin()
    const producer = kafka.producer()
    await admin.connect()
    await producer.connect()
    const lag = consumerLagReader(kafka, topic, group)
    try {
      await admin.createTopics({ topics: [{ topic, numPartitions: 2 }], waitForLeaders: true })
      await producer.send({ topic, messages: [0, 0, 0, 1].map((partition) => ({ partition, value: 'x' })) })
      const byPartition = async () => (await lag.read()).sort((a, b) => a.partition - b.partition)
      expect(await byPartition()).toEqual([
        { topic, partition: 0, lag: 3 },
        { topic, partition: 1, lag: 1 },
      ])
      await admin.setOffsets({ groupId: group, topic, partitions: [{ partition: 0, offset: '2' }, { partition: 1, offset: '1' }] })
      expect((await byPartition()).map((entry) => entry.lag)).toEqual([1, 0])
    } finally {
      await lag.close()
      await producer.disconnect()
      await admin.deleteTopics({ topics: [topic] }).catch(() => {})
      await admin.disconnect()
    }
  })
})
