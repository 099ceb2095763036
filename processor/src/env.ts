import * as v from 'valibot'
import { databaseUrl, logLevel, metricsPort, positiveInteger, readEnv } from '@zap/lib/env'

export const relayEntries = {
  OUTBOX_BATCH_SIZE: positiveInteger(500),
  OUTBOX_POLL_MS: positiveInteger(1000),
}

export const processorEnv = v.object({
  DATABASE_URL: databaseUrl,
  LOG_LEVEL: logLevel,
  METRICS_PORT: metricsPort,
  KAFKA_BROKERS: v.pipe(v.string('KAFKA_BROKERS is required, for example localhost:9092'), v.minLength(1)),
  KAFKA_TOPIC: v.optional(v.string(), 'zap-events'),
  KAFKA_PARTITIONS: positiveInteger(6),
  ...relayEntries,
})

export const readProcessorEnv = () => readEnv(processorEnv)
