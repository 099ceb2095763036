import { InvalidArgumentError, Option, type Command } from 'commander'
import { checkId } from './ids.ts'
import type { RunStatus } from './types.ts'

const runStatuses: RunStatus[] = ['queued', 'waiting', 'running', 'succeeded', 'failed', 'debounced', 'cancelled']

export type RunFilterFlags = { zap?: string; status?: string; limit?: string }

export const runFilterOptions = (command: Command, defaultLimit: number) =>
  command
    .option('--zap <zapId>', 'only runs of this zap, e.g. --zap 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11')
    .addOption(new Option('--status <status>', 'only runs in this state, e.g. --status failed').choices(runStatuses))
    .addOption(new Option('--limit <n>', 'how many runs, newest first (1-500), e.g. --limit 100').default(String(defaultLimit)).argParser(parseLimit))

/** The GET /runs query string for the filter flags. */
export function runQuery(flags: RunFilterFlags) {
  const query = new URLSearchParams()
  if (flags.zap) query.set('zapId', checkId(flags.zap, 'zap'))
  if (flags.status) query.set('status', flags.status)
  if (flags.limit) query.set('limit', flags.limit)
  return query
}

function parseLimit(value: string) {
  const limit = Number(value)
  if (!Number.isInteger(limit) || limit < 1 || limit > 500) throw new InvalidArgumentError(`Expected a whole number from 1 to 500.`)
  return value
}
