import { CliError } from './errors.ts'

export type BodyFlags = { data?: string; file?: string }

/** The webhook body from --data, --file or `-` (standard input); at most one of them. */
export async function readTriggerBody(flags: BodyFlags, source: string | undefined) {
  if (source !== undefined && source !== '-') throw new CliError(`Unexpected argument "${source}". Pass - to read the body from standard input.`)
  const given = [flags.data !== undefined, flags.file !== undefined, source === '-'].filter(Boolean).length
  if (given > 1) throw new CliError('Give the body one way only: --data, --file or - (standard input).')
  if (flags.data !== undefined) return flags.data
  if (flags.file !== undefined) {
    const file = Bun.file(flags.file)
    if (!(await file.exists())) throw new CliError(`File not found: ${flags.file}`)
    return file.text()
  }
  if (source === '-') return Bun.stdin.text()
  return undefined
}

/** `--header "X-Source: cli"` -> ['X-Source', 'cli']; JSON bodies get a JSON content type unless one was given. */
export function buildHeaders(headerFlags: string[], body: string | undefined) {
  const headers = new Headers()
  for (const flag of headerFlags) {
    const colon = flag.indexOf(':')
    const name = flag.slice(0, colon).trim()
    if (colon < 1 || !/^[!#$%&'*+.^_`|~0-9a-z-]+$/i.test(name)) throw new CliError(`--header "${flag}" is not name:value. Example: --header "X-Source: cli"`)
    headers.append(name, flag.slice(colon + 1).trim())
  }
  if (body !== undefined && !headers.has('content-type')) headers.set('content-type', isJson(body) ? 'application/json' : 'text/plain')
  return headers
}

function isJson(text: string) {
  try {
    JSON.parse(text)
    return true
  } catch {
    return false
  }
}
