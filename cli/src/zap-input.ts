import * as v from 'valibot'
import type { Command } from 'commander'
import { CliError } from './errors.ts'

const stepInput = v.object({ id: v.optional(v.string()), type: v.string(), config: v.record(v.string(), v.unknown()) })

const zapFile = v.object({
  name: v.optional(v.string()),
  steps: v.optional(v.array(stepInput)),
  enabled: v.optional(v.boolean()),
  secret: v.optional(v.string()),
  // Checked by the API, which names the wrong field.
  verify: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  concurrency: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  debounce: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  retentionDays: v.optional(v.nullable(v.number())),
  onFailure: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
  schedule: v.optional(v.nullable(v.record(v.string(), v.unknown()))),
})

export type ZapFile = v.InferOutput<typeof zapFile>

/** Reads a zap definition: the same JSON the API takes ({ name, steps, enabled?, secret?, verify?, concurrency?, debounce?, retentionDays? }). */
export async function readZapFile(path: string): Promise<ZapFile> {
  const result = v.safeParse(zapFile, await readJsonFile(path))
  if (result.success) return result.output
  const issue = result.issues[0]
  throw new CliError(`${path}: ${v.getDotPath(issue) ?? 'top level'}: ${issue.message}. Expected {"name": "...", "steps": [{"type": "log", "config": {...}}]}`)
}

export async function readJsonFile(path: string): Promise<unknown> {
  const file = Bun.file(path)
  if (!(await file.exists())) throw new CliError(`File not found: ${path}`)
  try {
    return JSON.parse(await file.text())
  } catch (error) {
    throw new CliError(`${path} is not valid JSON (${(error as Error).message})`)
  }
}

/** `--step 'http:{"url":"https://example.com"}'` -> { type: 'http', config: { url: ... } } */
export function parseStepFlag(flag: string) {
  const colon = flag.indexOf(':')
  const type = colon === -1 ? flag : flag.slice(0, colon)
  const json = colon === -1 ? '{}' : flag.slice(colon + 1)
  let config: unknown
  try {
    config = JSON.parse(json)
  } catch {
    throw new CliError(`--step ${flag}: the config after "${type}:" is not valid JSON. Example: --step 'log:{"message":"hi"}'`)
  }
  if (typeof config !== 'object' || config === null || Array.isArray(config)) {
    throw new CliError(`--step ${flag}: the config must be a JSON object. Example: --step 'log:{"message":"hi"}'`)
  }
  return { type, config: config as Record<string, unknown> }
}

/** `--verify '{"scheme":"github","secrets":["..."]}'`: the zap's verification setting, checked by the API. */
export function parseVerifyFlag(flag: string) {
  let verify: unknown
  try {
    verify = JSON.parse(flag)
  } catch {
    throw new CliError(`--verify is not valid JSON. Example: --verify '{"scheme":"github","secrets":["<your webhook secret>"]}'`)
  }
  if (typeof verify !== 'object' || verify === null || Array.isArray(verify)) {
    throw new CliError(`--verify must be a JSON object. Example: --verify '{"scheme":"github","secrets":["<your webhook secret>"]}'`)
  }
  return verify as Record<string, unknown>
}

export type ScheduleFlags = { schedule?: string | false; timezone?: string; catchUp?: string }

/** The options a command offers for a zap's schedule; `--no-schedule` only where a schedule can be removed. */
export function scheduleOptions(command: Command, removable: boolean) {
  command
    .option('--schedule <cron>', 'also run it on a cron: five fields, or six with seconds first, e.g. --schedule \'0 9 * * 1-5\'')
    .option('--timezone <zone>', 'read the schedule on this IANA zone\'s wall clock (default UTC), e.g. --timezone Europe/Berlin')
    .option('--catch-up <mode>', 'ticks missed while no processor ran: none (skip them, the default) or latest (one run for the latest)')
  if (removable) command.option('--no-schedule', 'stop running it on a schedule (its webhook keeps working)')
  return command
}

/** The schedule the flags set: null to remove it, undefined when no flag says anything; `current` fills in what the flags leave out. */
export function scheduleFromFlags(flags: ScheduleFlags, current: Record<string, unknown> | null = null) {
  if (flags.schedule === false) return null
  if (flags.schedule === undefined && flags.timezone === undefined && flags.catchUp === undefined) return undefined
  const cron = flags.schedule ?? current?.cron
  if (cron === undefined) throw new CliError('--timezone and --catch-up change a schedule: give it one with --schedule \'<cron>\' as well')
  return { ...current, cron, ...(flags.timezone !== undefined ? { timezone: flags.timezone } : {}), ...(flags.catchUp !== undefined ? { catchUp: flags.catchUp } : {}) }
}

export const collect = (value: string, previous: string[] = []) => [...previous, value]

/** `--retention-days 7` -> 7; the API checks the range. */
export function parseRetentionDays(flag: string) {
  const days = Number(flag)
  if (!Number.isInteger(days)) throw new CliError(`--retention-days takes a whole number of days, e.g. --retention-days 7 (got "${flag}")`)
  return days
}
