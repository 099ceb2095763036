import * as v from 'valibot'
import { logLevels } from './log.ts'

/** Parses the environment once (an empty variable counts as unset); a bad one stops the process with a message naming it. */
export function readEnv<S extends v.GenericSchema>(schema: S, env: Record<string, string | undefined> = Bun.env): v.InferOutput<S> {
  const set = Object.fromEntries(Object.entries(env).filter(([, value]) => value !== ''))
  const result = v.safeParse(schema, set)
  if (result.success) return result.output
  const problems = result.issues.map((issue) => `  ${v.getDotPath(issue) ?? '?'}: ${issue.message}`)
  console.error(`Invalid configuration:\n${problems.join('\n')}`)
  process.exit(1)
}

export const port = (fallback: number) =>
  v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(0), v.maxValue(65535)), String(fallback))

export const positiveInteger = (fallback: number) =>
  v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1)), String(fallback))

const flagValue = v.pipe(v.picklist(['true', 'false', '1', '0']), v.transform((value) => value === 'true' || value === '1'))

export const flag = (fallback: boolean) => v.optional(flagValue, fallback ? 'true' : 'false')

/** A flag whose absence means something of its own: undefined when unset. */
export const optionalFlag = v.optional(flagValue)

const units: Record<string, number> = { ms: 1, s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000 }

/** A comma-separated list of durations such as `5m,30m,1h`, in milliseconds. */
export const durationList = v.pipe(
  v.string(),
  v.regex(/^\s*\d+(ms|s|m|h|d)\s*(,\s*\d+(ms|s|m|h|d)\s*)*$/, 'Expected durations such as 5m,30m,1h (units ms, s, m, h, d)'),
  v.transform((text) => text.split(',').map((item) => {
    const [, amount, unit] = item.trim().match(/^(\d+)(ms|s|m|h|d)$/)!
    return Number(amount) * units[unit!]!
  })),
)

/** A rate limit such as `10/15m`: at most 10 requests per 15 minutes. */
export const rateLimit = (fallback: string) =>
  v.optional(
    v.pipe(
      v.string(),
      v.regex(/^\s*\d+\s*\/\s*\d+(s|m|h|d)\s*$/, 'Expected requests per duration such as 10/15m (units s, m, h, d)'),
      v.transform((text) => {
        const [, requests, amount, unit] = text.match(/(\d+)\s*\/\s*(\d+)(s|m|h|d)/)!
        return { requests: Number(requests), perSeconds: (Number(amount) * units[unit!]!) / 1000 }
      }),
      v.check((limit) => limit.requests >= 1 && limit.perSeconds >= 1, 'Both numbers must be at least 1'),
    ),
    fallback,
  )

export const databaseUrl = v.pipe(
  v.string('DATABASE_URL is required, for example postgres://user@localhost:5432/zap'),
  v.regex(/^postgres(ql)?:\/\//, 'must start with postgres://'),
)

export const logLevel = v.optional(v.picklist(logLevels, `LOG_LEVEL must be one of ${logLevels.join(', ')}`), 'info')

/** METRICS_PORT of hooks, the processor and the worker: `/metrics`, `/healthz` and `/readyz` there, none when unset. */
export const metricsPort = v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(1), v.maxValue(65535)))

/** OpenTelemetry tracing, on when OTEL_EXPORTER_OTLP_ENDPOINT is set; OTEL_BSP_SCHEDULE_DELAY is how often spans are sent. */
export const tracingEntries = {
  OTEL_EXPORTER_OTLP_ENDPOINT: v.optional(v.pipe(v.string(), v.regex(/^https?:\/\/[^/]/, 'OTEL_EXPORTER_OTLP_ENDPOINT must be an http(s) URL such as http://localhost:4318'))),
  OTEL_BSP_SCHEDULE_DELAY: positiveInteger(5_000),
}

type TracingEnv = v.InferOutput<v.ObjectSchema<typeof tracingEntries, undefined>>

export const tracingSettingsFrom = (env: TracingEnv) => ({ endpoint: env.OTEL_EXPORTER_OTLP_ENDPOINT, exportDelayMs: env.OTEL_BSP_SCHEDULE_DELAY })
