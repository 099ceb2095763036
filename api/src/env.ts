import * as v from 'valibot'
import { databaseUrl, flag, logLevel, port, positiveInteger, rateLimit, readEnv } from '@zap/lib/env'

export const apiEntries = {
  NODE_ENV: v.optional(v.string(), 'development'),
  JWT_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'JWT_SECRET must be at least 32 characters'))),
  JWT_TTL_SECONDS: positiveInteger(86_400),
  API_PORT: port(3001),
  HOOKS_PORT: port(3002),
  PUBLIC_HOOKS_URL: v.optional(v.pipe(v.string(), v.url('PUBLIC_HOOKS_URL must be a URL such as https://hooks.example.com'))),
  SMTP_URL: v.optional(v.string()),
  // Set it as on the workers: a zap whose http URL names an address they refuse is refused when it is saved.
  ALLOW_PRIVATE_TARGETS: flag(false),
  API_DATABASE_TIMEOUT_MS: positiveInteger(5_000),
  API_MAX_BODY_BYTES: positiveInteger(256 * 1024),
  API_MAX_JSON_DEPTH: positiveInteger(64),
  LOGIN_RATE_LIMIT_PER_IP: rateLimit('100/15m'),
  LOGIN_RATE_LIMIT_PER_ACCOUNT: rateLimit('100/15m'),
  LOGIN_SLOWDOWN_PER_ACCOUNT_ADDRESS: rateLimit('5/15m'),
  SIGNUP_RATE_LIMIT_PER_IP: rateLimit('20/1h'),
  SIGNUP_RATE_LIMIT_PER_ACCOUNT: rateLimit('5/1h'),
  SCHEDULE_MIN_INTERVAL_SECONDS: positiveInteger(60),
}

export const authRateLimitsFrom = (env: Omit<v.InferOutput<v.ObjectSchema<typeof apiEntries, undefined>>, 'ALLOW_PRIVATE_TARGETS'>) => ({
  loginPerIp: env.LOGIN_RATE_LIMIT_PER_IP,
  loginPerAccount: env.LOGIN_RATE_LIMIT_PER_ACCOUNT,
  loginSlowdownPerAccountAddress: env.LOGIN_SLOWDOWN_PER_ACCOUNT_ADDRESS,
  signupPerIp: env.SIGNUP_RATE_LIMIT_PER_IP,
  signupPerAccount: env.SIGNUP_RATE_LIMIT_PER_ACCOUNT,
})

export const jwtSecretInProduction = <Env extends { NODE_ENV: string; JWT_SECRET?: string }>() =>
  v.check<Env, string>((env) => env.NODE_ENV !== 'production' || env.JWT_SECRET !== undefined, 'JWT_SECRET is required when NODE_ENV=production')

export const publicHooksUrl = (env: { PUBLIC_HOOKS_URL?: string; HOOKS_PORT: number }) =>
  (env.PUBLIC_HOOKS_URL ?? `http://localhost:${env.HOOKS_PORT}`).replace(/\/+$/, '')

const apiObject = v.object({ DATABASE_URL: databaseUrl, DATABASE_POOL_SIZE: positiveInteger(10), LOG_LEVEL: logLevel, ...apiEntries })

export const apiEnv = v.pipe(
  apiObject,
  jwtSecretInProduction<v.InferOutput<typeof apiObject>>(),
  v.transform((env) => ({ ...env, PUBLIC_HOOKS_URL: publicHooksUrl(env) })),
)

export type ApiEnv = v.InferOutput<typeof apiEnv>

export const readApiEnv = () => readEnv(apiEnv)
