import * as v from 'valibot'
import { defaultMaxRequestsPerAddress } from './senders.ts'
import { databaseUrl, logLevel, metricsPort, port, positiveInteger, rateLimit, readEnv, tracingEntries } from '@zap/lib/env'

export const hooksEntries = {
  HOOKS_PORT: port(3002),
  MAX_BODY_BYTES: positiveInteger(1024 * 1024),
  MAX_JSON_DEPTH: positiveInteger(128),
  WEBHOOK_RATE_LIMIT: rateLimit('10000/5m'),
  USER_WEBHOOK_RATE_LIMIT: rateLimit('30000/5m'),
  INGEST_TIMEOUT_MS: positiveInteger(2_000),
  INGEST_MAX_PENDING: positiveInteger(1_000),
  INGEST_BATCH_MS: positiveInteger(1),
  INGEST_BATCH_SIZE: positiveInteger(32),
  HOOKS_REQUEST_TIMEOUT_S: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(255, 'HOOKS_REQUEST_TIMEOUT_S is at most 255 (seconds)')), '10'),
  HOOKS_MAX_REQUESTS_PER_ADDRESS: positiveInteger(defaultMaxRequestsPerAddress),
}

export const hooksEnv = v.object({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: positiveInteger(10), LOG_LEVEL: logLevel, METRICS_PORT: metricsPort, ...hooksEntries, ...tracingEntries })

export const readHooksEnv = () => readEnv(hooksEnv)

type HooksEntries = v.InferOutput<v.ObjectSchema<typeof hooksEntries, undefined>>

/** The receiver's limits, as `createHooks` takes them. */
export const hooksLimitsFrom = (env: HooksEntries) => ({
  maxBodyBytes: env.MAX_BODY_BYTES,
  maxJsonDepth: env.MAX_JSON_DEPTH,
  webhookRateLimit: env.WEBHOOK_RATE_LIMIT,
  userWebhookRateLimit: env.USER_WEBHOOK_RATE_LIMIT,
  ingestLimits: { timeoutMs: env.INGEST_TIMEOUT_MS, maxPending: env.INGEST_MAX_PENDING, batchMs: env.INGEST_BATCH_MS, maxBatch: env.INGEST_BATCH_SIZE },
  maxRequestsPerAddress: env.HOOKS_MAX_REQUESTS_PER_ADDRESS,
})

/**
 * How the receiver listens. Bun's idle timeout does not restart while a request is in flight (measured on
 * Bun 1.4.5), so it bounds a request from its headers to its answer, a trickling body included, and cuts a
 * kept-alive connection left idle; Bun checks it every few seconds. Headers must arrive within Bun's own 10 s.
 */
export const hooksListenOptions = (env: HooksEntries, port: number) => ({ port, reusePort: false, idleTimeout: env.HOOKS_REQUEST_TIMEOUT_S })
