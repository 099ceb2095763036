import * as v from 'valibot'
import { databaseUrl, durationList, flag, logLevel, metricsPort, positiveInteger, readEnv, tracingEntries } from '@zap/lib/env'
import { rebalanceTimeoutMs } from '@zap/lib/kafka'
import type { ExecuteOptions } from './execute.ts'
import { createMailer } from './steps/email.ts'
import { resolveWithDns, type TargetScope } from './targets.ts'
import { createFairShare } from './fair-share.ts'
import type { AlertOptions } from './alerts.ts'
import type { Sql } from '@zap/sql/db'
import type { Logger } from '@zap/lib/log'

// How long a step waits in memory for a fair share of the slots before it goes back to the outbox.
const fairShareWaitMs = 250
const detachAfterMs = 500
const maxStepTimeoutMs = rebalanceTimeoutMs / 2

export const kafkaEntries = {
  KAFKA_TOPIC: v.optional(v.string(), 'zap-events'),
  KAFKA_PARTITIONS: positiveInteger(6),
  KAFKA_GROUP: v.optional(v.string(), 'zap-workers'),
  KAFKA_SESSION_TIMEOUT_MS: v.pipe(
    positiveInteger(6_000),
    v.minValue(6_000, 'KAFKA_SESSION_TIMEOUT_MS must be at least 6000 (the broker refuses shorter sessions by default, and workers heartbeat every second)'),
  ),
}

export const stepEntries = {
  WORKER_CONCURRENCY: positiveInteger(64),
  WORKER_BATCH_MS: positiveInteger(1),
  WORKER_BATCH_SIZE: positiveInteger(100),
  STEP_MAX_ATTEMPTS: positiveInteger(5),
  STEP_TIMEOUT_MS: positiveInteger(10_000),
  RETRY_BASE_MS: positiveInteger(1_000),
  RETRY_MAX_MS: positiveInteger(15 * 60_000),
  HTTP_RESPONSE_MAX_BYTES: positiveInteger(256 * 1024),
  STEP_MAX_RENDERED_BYTES: positiveInteger(1024 * 1024),
  STEP_MAX_OUTPUT_BYTES: positiveInteger(1024 * 1024),
  RUN_MAX_OUTPUT_BYTES: positiveInteger(8 * 1024 * 1024),
  ALLOW_PRIVATE_TARGETS: flag(false),
  SMTP_URL: v.optional(v.pipe(v.string(), v.regex(/^smtps?:\/\//, 'SMTP_URL must look like smtp://user:pass@host:587 or smtps://...'))),
  SMTP_FROM: v.optional(v.string(), 'zap <zap@localhost>'),
  AUTO_REPLAY_SCHEDULE: v.optional(durationList, '5m,30m,1h,3h,6h'),
  ALERT_THROTTLE_MS: positiveInteger(5 * 60_000),
}

export const stepTimeoutFitsRebalance = <Env extends { STEP_TIMEOUT_MS: number }>() =>
  v.check<Env, string>(
    (env) => env.STEP_TIMEOUT_MS <= maxStepTimeoutMs,
    `STEP_TIMEOUT_MS must be at most ${maxStepTimeoutMs} (half the consumer's ${rebalanceTimeoutMs} ms rebalance timeout), so a batch held by steps that could not take their lease still ends in time to rejoin the group`,
  )

const workerObject = v.object({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: logLevel,
  METRICS_PORT: metricsPort,
  KAFKA_BROKERS: v.pipe(v.string('KAFKA_BROKERS is required, for example localhost:9092'), v.minLength(1)),
  DATABASE_POOL_SIZE: positiveInteger(10),
  ...kafkaEntries,
  ...stepEntries,
  ...tracingEntries,
})

export const workerEnv = v.pipe(workerObject, stepTimeoutFitsRebalance<v.InferOutput<typeof workerObject>>())

export const readWorkerEnv = () => readEnv(workerEnv)

type StepEnv = v.InferOutput<v.ObjectSchema<typeof stepEntries, undefined>>

/** `defaultScope` applies while ALLOW_PRIVATE_TARGETS is unset: `bun run dev` lets steps reach loopback. */
export function executeOptionsFrom(env: StepEnv, defaultScope: TargetScope = 'public'): ExecuteOptions {
  return {
    maxAttempts: env.STEP_MAX_ATTEMPTS,
    retryBaseMs: env.RETRY_BASE_MS,
    retryMaxMs: env.RETRY_MAX_MS,
    stepTimeoutMs: env.STEP_TIMEOUT_MS,
    maxResponseBytes: env.HTTP_RESPONSE_MAX_BYTES,
    maxRenderedBytes: env.STEP_MAX_RENDERED_BYTES,
    maxOutputBytes: env.STEP_MAX_OUTPUT_BYTES,
    maxRunOutputBytes: env.RUN_MAX_OUTPUT_BYTES,
    targetScope: env.ALLOW_PRIVATE_TARGETS ? 'private' : defaultScope,
    resolve: resolveWithDns,
    autoReplayScheduleMs: env.AUTO_REPLAY_SCHEDULE,
    mailer: createMailer(env.SMTP_URL, env.SMTP_FROM, env.STEP_TIMEOUT_MS),
    fairShare: createFairShare(env.WORKER_CONCURRENCY, fairShareWaitMs),
    detachAfterMs,
    alertThrottleMs: env.ALERT_THROTTLE_MS,
    batch: { batchMs: env.WORKER_BATCH_MS, maxBatch: env.WORKER_BATCH_SIZE },
  }
}

/** The failure alert sender's options, sharing the step executor's mailer and address checks. */
export const alertOptionsFrom = (sql: Sql, options: ExecuteOptions, log: Logger): AlertOptions => ({
  sql,
  mailer: options.mailer,
  targetScope: options.targetScope,
  resolve: options.resolve,
  timeoutMs: options.stepTimeoutMs,
  log,
})
