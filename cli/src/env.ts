import { homedir } from 'node:os'
import { join } from 'node:path'
import * as v from 'valibot'

const cliEnv = v.object({
  ZAP_API_URL: v.optional(v.pipe(v.string(), v.url('ZAP_API_URL must be a URL such as http://localhost:3001'))),
  ZAP_TOKEN: v.optional(v.pipe(v.string(), v.trim(), v.minLength(1, 'ZAP_TOKEN is set but empty'))),
  ZAP_SIGNING_SECRET: v.optional(v.pipe(v.string(), v.minLength(1, 'ZAP_SIGNING_SECRET is set but empty'))),
  XDG_CONFIG_HOME: v.optional(v.string()),
  NO_COLOR: v.optional(v.string()),
  ZAP_INVOKED_AS: v.optional(v.string()),
})

/** The one place the CLI reads its environment. */
export function readCliEnv(env: Record<string, string | undefined> = Bun.env) {
  const result = v.safeParse(cliEnv, env)
  if (!result.success) {
    console.error(`Invalid environment: ${result.issues[0].message}. Fix or unset it.`)
    process.exit(1)
  }
  const { ZAP_API_URL, ZAP_TOKEN, ZAP_SIGNING_SECRET, XDG_CONFIG_HOME, NO_COLOR, ZAP_INVOKED_AS } = result.output
  return {
    apiUrl: ZAP_API_URL,
    token: ZAP_TOKEN,
    signingSecret: ZAP_SIGNING_SECRET,
    configDir: join(XDG_CONFIG_HOME || join(homedir(), '.config'), 'zap'),
    color: !NO_COLOR && process.stdout.isTTY === true,
    terminal: process.stdout.isTTY === true,
    interactive: process.stdin.isTTY === true && process.stdout.isTTY === true,
    // The root package.json's `zap` script sets it, so hints read `bun zap login` where `zap` is not on the PATH.
    invokedAs: ZAP_INVOKED_AS?.trim() || 'zap',
  }
}

export const env = readCliEnv()
export const defaultApiUrl = 'http://localhost:3001'
/** The command as the user runs it, for hints they can paste: `zap`, or `bun zap` from a checkout. */
export const zapCommand = env.invokedAs
