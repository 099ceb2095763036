import { collectDefaultMetrics, Counter, Gauge, Histogram, Registry, type Metric } from 'prom-client'
import type { Sql } from 'postgres'
import type { Logger } from './log.ts'
import { version } from './version.ts'
import { listenOrExplain } from './ports.ts'

/**
 * The process's one registry: process metrics, and zap's own for the services this process runs (see
 * `exposeMetricsOf`). No label names a zap or a user, so the number of series stays bounded whatever the tenants do.
 */
export const metrics = new Registry()
collectDefaultMetrics({ register: metrics })

const registers = [metrics]
// Recorded wherever they are used, scraped only where `exposeMetricsOf` adds them.
const unexposed: Registry[] = []

new Gauge({ name: 'zap_build_info', help: "zap's version; always 1", labelNames: ['version'] as const, registers }).set({ version }, 1)

export const webhooksReceived = new Counter({
  name: 'zap_webhooks_received_total',
  help: 'Webhook requests by outcome (accepted, duplicate, handshake, rejected = 4xx, failed = 5xx) and the error code that rejected them',
  labelNames: ['outcome', 'reason'] as const,
  registers: unexposed,
})

export const webhookIngestSeconds = new Histogram({
  name: 'zap_webhook_ingest_duration_seconds',
  help: 'Time from a webhook request to its answer, by outcome',
  labelNames: ['outcome'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: unexposed,
})

export const messagesPublished = new Counter({
  name: 'zap_outbox_messages_published_total',
  help: 'Step messages the outbox relay handed to the transport',
  registers: unexposed,
})

export const stepExecutions = new Counter({
  name: 'zap_step_executions_total',
  help: 'Step attempts recorded, by step type and outcome (succeeded, failed, retrying, waiting)',
  labelNames: ['type', 'outcome'] as const,
  registers: unexposed,
})

export const stepSeconds = new Histogram({
  name: 'zap_step_duration_seconds',
  help: 'Time one step attempt took, by step type',
  labelNames: ['type'] as const,
  buckets: [0.001, 0.005, 0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30],
  registers: unexposed,
})

export const retriesScheduled = new Counter({
  name: 'zap_step_retries_scheduled_total',
  help: 'Failed step attempts that were scheduled to run again',
  registers: unexposed,
})

export const runsFinished = new Counter({
  name: 'zap_runs_finished_total',
  help: 'Runs that ended, by status (succeeded, failed); a failed run with an automatic replay ahead is not counted until it ends',
  labelNames: ['status'] as const,
  registers: unexposed,
})

export const runsPruned = new Counter({
  name: 'zap_runs_pruned_total',
  help: 'Finished runs deleted past their retention, with their steps and history',
  registers: unexposed,
})

export const runsReconciled = new Counter({
  name: 'zap_runs_reconciled_total',
  help: 'Stranded runs (queued or running, no outbox row, nothing recorded for RECONCILE_AFTER_SECONDS) handed to the outbox again',
  registers: unexposed,
})

export const alertsSent = new Counter({
  name: 'zap_failure_alerts_total',
  help: 'Failure alert deliveries by channel (webhook, email) and outcome (delivered, failed after its tries)',
  labelNames: ['channel', 'outcome'] as const,
  registers: unexposed,
})

export const httpRequests = new Counter({
  name: 'zap_http_requests_total',
  help: 'API requests answered, by method, route (its pattern, such as /api/v1/zaps/:id) and status',
  labelNames: ['method', 'route', 'status'] as const,
  registers: unexposed,
})

export const httpRequestSeconds = new Histogram({
  name: 'zap_http_request_duration_seconds',
  help: 'Time from an API request to its answer, by method and route',
  labelNames: ['method', 'route'] as const,
  buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5],
  registers: unexposed,
})

const metricsOf: Record<'api' | 'hooks' | 'processor' | 'worker', Metric[]> = {
  api: [httpRequests, httpRequestSeconds],
  hooks: [webhooksReceived, webhookIngestSeconds],
  processor: [messagesPublished, runsPruned, runsReconciled],
  worker: [stepExecutions, stepSeconds, retriesScheduled, runsFinished, alertsSent],
}

/** Adds the metrics of the services this process runs to what a scrape reads: each service shows only its own. */
export function exposeMetricsOf(...services: (keyof typeof metricsOf)[]) {
  for (const metric of services.flatMap((service) => metricsOf[service])) metrics.registerMetric(metric)
}

/** Outbox gauges read from the database once per scrape; a failed read leaves the last values. */
export function watchOutbox(read: () => Promise<{ depth: number; oldestDueSeconds: number }>, log: Logger) {
  let last = { depth: 0, oldestDueSeconds: 0 }
  let reading: Promise<typeof last> | null = null
  // Both gauges are collected by the same scrape, concurrently: they share one read.
  const current = () =>
    (reading ??= read()
      .then((value) => (last = value), (error) => {
        log.debug({ err: error }, 'could not read the outbox for metrics')
        return last
      })
      .finally(() => (reading = null)))
  new Gauge({ name: 'zap_outbox_depth', help: 'Outbox rows waiting, due or delayed', registers, async collect() { this.set((await current()).depth) } })
  new Gauge({ name: 'zap_outbox_oldest_due_seconds', help: 'Age of the oldest outbox row that is due (0 when none is)', registers, async collect() { this.set((await current()).oldestDueSeconds) } })
}

export type PartitionLag = { topic: string; partition: number; lag: number }

/** Consumer lag per partition, read from Kafka's offsets at each scrape; a failed read leaves the last values. */
export function watchConsumerLag(read: () => Promise<PartitionLag[]>, log: Logger) {
  new Gauge({
    name: 'zap_consumer_lag_messages',
    help: "Messages written to a partition that the worker group has not committed yet, by topic and partition",
    labelNames: ['topic', 'partition'] as const,
    registers,
    async collect() {
      try {
        for (const { topic, partition, lag } of await read()) this.set({ topic, partition: String(partition) }, lag)
      } catch (error) {
        log.debug({ err: error }, 'could not read consumer lag for metrics')
      }
    },
  })
}

/**
 * The metrics port of a service without HTTP of its own (`/metrics`, `/healthz` and `/readyz`), when
 * `port` is set; readiness is checked through a probe client of its own, and `readiness` says what
 * else is not ready yet (a loop, Kafka). `stop` closes both.
 */
export async function serveMetrics(port: number | undefined, openProbe: () => Sql, log: Logger, readiness: () => string | null = () => null) {
  if (!port) return { stop: async () => {} }
  // Elysia and the probe routes load only for a metrics port: without one a worker or processor is 4-5 MB smaller.
  const [{ Elysia }, { health, metricsRoute, watchDatabase }] = await Promise.all([import('elysia'), import('./health.ts')])
  const probeSql = openProbe()
  const database = watchDatabase(probeSql, log)
  const server = listenOrExplain(() => new Elysia().use(health(database, readiness)).use(metricsRoute).listen({ port, reusePort: false }), port, 'METRICS_PORT', log)
  return {
    async stop() {
      database.stop()
      await server.stop()
      await probeSql.end({ timeout: 0.5 })
    },
  }
}
