import * as v from 'valibot'
import { databaseUrl, port, positiveInteger, readEnv } from '@zap/lib/env'

export const apiEnv = v.pipe(
  v.object({
    NODE_ENV: v.optional(v.string(), 'development'),
    DATABASE_URL: databaseUrl,
    JWT_SECRET: v.optional(v.pipe(v.string(), v.minLength(32, 'JWT_SECRET must be at least 32 characters'))),
    JWT_TTL_SECONDS: positiveInteger(86_400),
    API_PORT: port(3001),
    HOOKS_PORT: port(3002),
    PUBLIC_HOOKS_URL: v.optional(v.pipe(v.string(), v.url('PUBLIC_HOOKS_URL must be a URL such as https://hooks.example.com'))),
    DATABASE_POOL_SIZE: positiveInteger(10),
    SMTP_URL: v.optional(v.string()),
  }),
  v.check((env) => env.NODE_ENV !== 'production' || env.JWT_SECRET !== undefined, 'JWT_SECRET is required when NODE_ENV=production'),
  v.transform((env) => ({
    ...env,
    PUBLIC_HOOKS_URL: (env.PUBLIC_HOOKS_URL ?? `http://localhost:${env.HOOKS_PORT}`).replace(/\/+$/, ''),
  })),
)

export type ApiEnv = v.InferOutput<typeof apiEnv>

export const readApiEnv = () => readEnv(apiEnv)
