import { chmodSync, existsSync, mkdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import * as v from 'valibot'
import { env, zapCommand } from './env.ts'
import { CliError } from './errors.ts'

const savedLogin = v.object({ apiUrl: v.string(), token: v.string(), email: v.string() })

export type SavedLogin = v.InferOutput<typeof savedLogin>

export const configPath = join(env.configDir, 'config.json')

export function readLogin(): SavedLogin | null {
  let text: string
  try {
    text = readFileSync(configPath, 'utf8')
  } catch {
    return null
  }
  try {
    return v.parse(savedLogin, JSON.parse(text))
  } catch {
    throw new CliError(`${configPath} is damaged. Delete it and run: ${zapCommand} login`)
  }
}

export function saveLogin(login: SavedLogin) {
  mkdirSync(env.configDir, { recursive: true, mode: 0o700 })
  writeFileSync(configPath, `${JSON.stringify(login, null, 2)}\n`, { mode: 0o600 })
  chmodSync(configPath, 0o600)
}

export function forgetLogin() {
  const existed = existsSync(configPath)
  rmSync(configPath, { force: true })
  return existed
}
