import { InvalidArgumentError } from 'commander'

const units: Record<string, number> = { s: 1000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 }

/** `--since 1h` or `--since 2025-01-31T12:00:00Z` -> an ISO timestamp. */
export function parseTime(value: string, now = Date.now()) {
  const relative = value.match(/^(\d+)([smhdw])$/)
  if (relative) return new Date(now - Number(relative[1]) * units[relative[2]!]!).toISOString()
  const absolute = Date.parse(value)
  if (Number.isNaN(absolute)) throw new InvalidArgumentError('Expected a duration such as 30m, 1h, 2d, 1w or a date such as 2025-01-31T12:00:00Z.')
  return new Date(absolute).toISOString()
}
