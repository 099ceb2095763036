import * as v from 'valibot'
import { logLevel, optionalFlag, positiveInteger, readEnv } from '@zap/lib/env'
import { apiEntries, jwtSecretInProduction, publicHooksUrl } from '@zap/api/env'
import { hooksEntries } from '@zap/hooks/env'
import { kafkaEntries, stepEntries, stepTimeoutFitsRebalance } from '@zap/worker/env'
import { relayEntries, retentionEntries, schedulerEntries } from '@zap/processor/env'

const standaloneObject = v.object({
  ZAP_DATA_DIR: v.optional(v.string(), '.zap'),
  DATABASE_URL: v.optional(v.pipe(v.string(), v.regex(/^postgres(ql)?:\/\//, 'DATABASE_URL must start with postgres://'))),
  DATABASE_POOL_SIZE: positiveInteger(20),
  LOG_LEVEL: logLevel,
  KAFKA_BROKERS: v.optional(v.pipe(v.string(), v.minLength(1))),
  ...apiEntries,
  ...hooksEntries,
  ...relayEntries,
  ...retentionEntries,
  ...schedulerEntries,
  ...kafkaEntries,
  ...stepEntries,
  // Unset, steps may call this machine's loopback services; false: public addresses only, as in production.
  ALLOW_PRIVATE_TARGETS: optionalFlag,
  // How the start-up banner names the CLI; `zap dev` passes how it was run.
  ZAP_INVOKED_AS: v.optional(v.string(), 'bun zap'),
})

type Env = v.InferOutput<typeof standaloneObject>

export const standaloneEnv = v.pipe(
  standaloneObject,
  jwtSecretInProduction<Env>(),
  stepTimeoutFitsRebalance<Env>(),
  v.transform((env) => ({ ...env, PUBLIC_HOOKS_URL: publicHooksUrl(env) })),
)

export type StandaloneEnv = v.InferOutput<typeof standaloneEnv>

export const readStandaloneEnv = () => readEnv(standaloneEnv)
