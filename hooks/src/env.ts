import * as v from 'valibot'
import { databaseUrl, logLevel, port, positiveInteger, rateLimit, readEnv } from '@zap/lib/env'

export const hooksEntries = {
  HOOKS_PORT: port(3002),
  MAX_BODY_BYTES: positiveInteger(1024 * 1024),
  MAX_JSON_DEPTH: positiveInteger(128),
  WEBHOOK_RATE_LIMIT: rateLimit('10000/5m'),
}

export const hooksEnv = v.object({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: positiveInteger(10), LOG_LEVEL: logLevel, ...hooksEntries })

export const readHooksEnv = () => readEnv(hooksEnv)
