import { spinner } from '@clack/prompts'
import { env } from './env.ts'

const codes = { bold: 1, dim: 2, red: 31, green: 32, yellow: 33, cyan: 36 } as const

export const paint = Object.fromEntries(
  Object.entries(codes).map(([name, code]) => [name, (text: string) => (env.color ? `\x1b[${code}m${text}\x1b[0m` : text)]),
) as Record<keyof typeof codes, (text: string) => string>

const statusColors: Record<string, (text: string) => string> = {
  succeeded: paint.green,
  failed: paint.red,
  running: paint.yellow,
  retrying: paint.yellow,
  waiting: paint.cyan,
  queued: paint.dim,
  pending: paint.dim,
  skipped: paint.dim,
  debounced: paint.dim,
  enabled: paint.green,
  disabled: paint.dim,
}

// C0 controls (newlines and tabs too), DEL, C1 controls and the bidirectional overrides: what a sender's
// text could use to move the cursor, clear the screen, retitle the terminal or reorder what is shown.
const controls = /[\u0000-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g
const controlsButNewline = /[\u0000-\u0009\u000b-\u001f\u007f-\u009f\u202a-\u202e\u2066-\u2069]/g

/** Text from outside (a webhook, a target's answer, a step's output) made inert for a terminal: each control character shows as its escape, such as \x1b. */
export const inert = (text: string) => text.replace(controls, escapeControl)

/** `value` as JSON laid out over lines (its strings escape their own line breaks), made inert. */
export const inertJson = (value: unknown, spacing?: number) => (JSON.stringify(value, null, spacing) ?? 'null').replace(controlsButNewline, escapeControl)

function escapeControl(char: string) {
  const code = char.charCodeAt(0)
  return code > 0xff ? `\\u${code.toString(16)}` : `\\x${code.toString(16).padStart(2, '0')}`
}

export const paintStatus = (status: string, text = status) => (statusColors[status] ?? String)(text)

export function printJson(value: unknown) {
  console.log(JSON.stringify(value, null, 2))
}

/** Prints aligned columns; the header is bold on a terminal. */
export function printTable(headers: string[], rows: string[][]) {
  const widths = headers.map((header, column) => Math.max(Bun.stringWidth(header), ...rows.map((row) => Bun.stringWidth(row[column] ?? ''))))
  const line = (cells: string[]) =>
    cells.map((cell, column) => cell + ' '.repeat(widths[column]! - Bun.stringWidth(cell))).join('  ').trimEnd()
  console.log(paint.bold(line(headers)))
  for (const row of rows) console.log(line(row))
}

export function printFields(fields: [string, string][]) {
  const width = Math.max(...fields.map(([label]) => label.length))
  for (const [label, value] of fields) console.log(`${paint.dim(`${label}:`.padEnd(width + 1))} ${value}`)
}

export function ago(iso: string, now = Date.now()) {
  const seconds = Math.max(0, Math.round((now - Date.parse(iso)) / 1000))
  if (seconds < 60) return `${seconds}s ago`
  if (seconds < 3600) return `${Math.floor(seconds / 60)}m ago`
  if (seconds < 86_400) return `${Math.floor(seconds / 3600)}h ago`
  return `${Math.floor(seconds / 86_400)}d ago`
}

/** A time in this machine's zone, with the zone's name: `Mon, 14 Dec 2026, 09:00 CET`. */
export const localTime = (iso: string) =>
  new Intl.DateTimeFormat('en-GB', { weekday: 'short', day: 'numeric', month: 'short', year: 'numeric', hour: '2-digit', minute: '2-digit', hourCycle: 'h23', timeZoneName: 'short' }).format(new Date(iso))

export function duration(from: string | null, to: string | null) {
  if (!from || !to) return '-'
  const ms = Date.parse(to) - Date.parse(from)
  return ms < 1000 ? `${ms}ms` : `${(ms / 1000).toFixed(1)}s`
}

/**
 * Shows a spinner on stderr while the work runs, only on a terminal that takes colour: it is drawn with
 * cursor escapes, which NO_COLOR asks to leave out. Cleared, it leaves nothing behind.
 */
export async function withSpinner<T>(message: string, work: Promise<T>): Promise<T> {
  if (!env.color || process.stderr.isTTY !== true) return work
  const spin = spinner({ withGuide: false, output: process.stderr })
  spin.start(message)
  try {
    return await work
  } finally {
    spin.clear()
  }
}
