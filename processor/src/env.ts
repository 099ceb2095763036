import * as v from 'valibot'
import { databaseUrl, logLevel, metricsPort, positiveInteger, readEnv, tracingEntries } from '@zap/lib/env'

export const relayEntries = {
  OUTBOX_BATCH_SIZE: positiveInteger(500),
  OUTBOX_POLL_MS: positiveInteger(1000),
  RECONCILE_AFTER_SECONDS: positiveInteger(300),
}

export const retentionEntries = {
  RUN_RETENTION_DAYS: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(3650)), '30'),
  FAILED_RUN_RETENTION_DAYS: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(3650))),
  RETENTION_BATCH_SIZE: positiveInteger(500),
  RETENTION_INTERVAL_MS: positiveInteger(10 * 60_000),
}

export const schedulerEntries = {
  SCHEDULE_POLL_MS: positiveInteger(500),
  SCHEDULE_BATCH_SIZE: positiveInteger(500),
  SCHEDULE_MISSED_AFTER_SECONDS: positiveInteger(60),
}

/** The scheduler's settings: how often it looks for due ticks, how many it takes at once, and when a late tick counts as missed. */
export const schedulerOptionsFrom = (env: v.InferOutput<v.ObjectSchema<typeof schedulerEntries, undefined>>) => ({
  pollMs: env.SCHEDULE_POLL_MS,
  batchSize: env.SCHEDULE_BATCH_SIZE,
  missedAfterMs: env.SCHEDULE_MISSED_AFTER_SECONDS * 1000,
})

type RetentionEnv = v.InferOutput<v.ObjectSchema<typeof retentionEntries, undefined>>

/** The retention job's settings; failed runs are kept as long as the others unless FAILED_RUN_RETENTION_DAYS says otherwise. */
export const retentionOptionsFrom = (env: RetentionEnv) => ({
  policy: { days: env.RUN_RETENTION_DAYS, failedDays: env.FAILED_RUN_RETENTION_DAYS ?? env.RUN_RETENTION_DAYS },
  batchSize: env.RETENTION_BATCH_SIZE,
  intervalMs: env.RETENTION_INTERVAL_MS,
  pauseMs: retentionPauseMs,
})

// Between two prune batches: the database serves ingestion in between.
const retentionPauseMs = 50

export const processorEnv = v.object({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: logLevel,
  METRICS_PORT: metricsPort,
  KAFKA_BROKERS: v.pipe(v.string('KAFKA_BROKERS is required, for example localhost:9092'), v.minLength(1)),
  KAFKA_TOPIC: v.optional(v.string(), 'zap-events'),
  KAFKA_PARTITIONS: positiveInteger(6),
  ...relayEntries,
  ...retentionEntries,
  ...schedulerEntries,
  ...tracingEntries,
})

export const readProcessorEnv = () => readEnv(processorEnv)
