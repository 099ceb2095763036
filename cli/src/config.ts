import { chmodSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { env, zapCommand } from './env.ts'
import { CliError } from './errors.ts'

// After logout the file keeps only the API's address, so the next login goes to the same server.
const savedConfig = v.object({ apiUrl: v.string(), token: v.optional(v.string()), email: v.optional(v.string()) })

export type SavedLogin = { apiUrl: string; token: string; email: string }

export const configPath = join(env.configDir, 'config.json')

export function readLogin(): SavedLogin | null {
  const config = readConfig()
  return config?.token && config.email ? { apiUrl: config.apiUrl, token: config.token, email: config.email } : null
}

/** The API of the saved login, or of the last one when logged out. */
export const savedApiUrl = () => readConfig()?.apiUrl

export function saveLogin(login: SavedLogin) {
  writeConfig(login)
}

/** Drops the token and keeps the API's address; false when there was no login to forget. */
export function forgetLogin() {
  let config: v.InferOutput<typeof savedConfig> | null
  try {
    config = readConfig()
  } catch {
    rmSync(configPath, { force: true })
    return true
  }
  if (!config?.token) return false
  writeConfig({ apiUrl: config.apiUrl })
  return true
}

function readConfig() {
  let text: string
  try {
    text = readFileSync(configPath, 'utf8')
  } catch {
    return null
  }
  try {
    return v.parse(savedConfig, JSON.parse(text))
  } catch {
    throw new CliError(`${configPath} is damaged. Delete it and run: ${zapCommand} login`)
  }
}

function writeConfig(config: v.InferOutput<typeof savedConfig>) {
  mkdirSync(env.configDir, { recursive: true, mode: 0o700 })
  writeFileSync(configPath, `${JSON.stringify(config, null, 2)}\n`, { mode: 0o600 })
  chmodSync(configPath, 0o600)
}
