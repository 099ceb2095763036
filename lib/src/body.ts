import { HttpError } from './errors.ts'

/**
 * Reads the body counting the bytes actually received, refusing it once past the limit. A client that
 * goes away mid-body is an ordinary 400, so it costs one request log line rather than an error with a stack.
 */
export async function readLimitedBody(request: Request, maxBytes: number) {
  try {
    return await readBody(request, maxBytes)
  } catch (error) {
    if (request.signal.aborted && !(error instanceof HttpError)) throw new HttpError(400, 'body_incomplete', 'The connection closed before the whole body arrived')
    throw error
  }
}

async function readBody(request: Request, maxBytes: number) {
  if (!request.body) return new Uint8Array(0)
  const declared = request.headers.get('content-length')
  // A declared length bounds what HTTP framing lets arrive, so the body is read whole: stream chunks cost a third of hooks' CPU.
  if (declared !== null) {
    if (Number(declared) > maxBytes) throw tooLarge(maxBytes)
    const bytes = await request.bytes()
    if (bytes.byteLength > maxBytes) throw tooLarge(maxBytes)
    return bytes
  }
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body) {
    size += chunk.byteLength
    if (size > maxBytes) throw tooLarge(maxBytes)
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

const tooLarge = (maxBytes: number) => new HttpError(413, 'body_too_large', `The body is larger than the limit of ${maxBytes} bytes`)

/**
 * Parses JSON whose nesting is at most `maxDepth`, checked before parsing, and whose strings can be
 * stored (no NUL, no lone surrogate). Every refusal is a 400 that does not repeat the input; a bad
 * string is named by its path under `name` (the API names fields as its validation errors do, without one).
 */
export function parseJson(text: string, maxDepth: number, name = 'body'): unknown {
  if (nestingExceeds(text, maxDepth)) throw new HttpError(400, 'json_too_deep', `The JSON is nested more than ${maxDepth} levels deep`)
  let value: unknown
  try {
    value = JSON.parse(text)
  } catch {
    throw new HttpError(400, 'invalid_json', 'The body is not valid JSON')
  }
  const where = findUnstorableText(value)
  if (where !== null) throw unstorableText([name, where].filter(Boolean).join('.') || 'body')
  return value
}

export const unstorableText = (where: string) =>
  new HttpError(400, 'invalid_text', `${where} contains a NUL character or a lone surrogate, which cannot be stored`, [{ path: where, message: 'NUL or lone surrogate' }])

/** Whether a string can be stored as PostgreSQL text or jsonb. */
export const isStorableText = (text: string) => !text.includes('\u0000') && text.isWellFormed()

/** The dotted path of the first string or key that cannot be stored, '' for the value itself, or null when all can. */
export function findUnstorableText(value: unknown): string | null {
  if (typeof value === 'string') return isStorableText(value) ? null : ''
  if (value === null || typeof value !== 'object') return null
  for (const [key, item] of Object.entries(value)) {
    if (!isStorableText(key)) return printable(key)
    const inner = findUnstorableText(item)
    if (inner !== null) return inner ? `${printable(key)}.${inner}` : printable(key)
  }
  return null
}

/** A key as error paths show it, without repeating long or unprintable input. */
export const printable = (key: string) => (key.length > 40 ? `${key.slice(0, 40)}…` : key).replace(/[^\x20-\x7e…]/g, '?')

// A linear scan that counts brackets outside strings, so a deep document is refused before JSON.parse builds it.
function nestingExceeds(text: string, maxDepth: number) {
  let depth = 0
  let inString = false
  for (let index = 0; index < text.length; index++) {
    const char = text.charCodeAt(index)
    if (inString) {
      if (char === 92) index++
      else if (char === 34) inString = false
    } else if (char === 34) inString = true
    else if (char === 123 || char === 91) {
      if (++depth > maxDepth) return true
    } else if (char === 125 || char === 93) depth--
  }
  return false
}
