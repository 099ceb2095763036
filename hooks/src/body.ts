import { findUnstorableText, parseJson, unstorableText } from '@zap/lib/body'
import { HttpError } from '@zap/lib/errors'

/**
 * JSON is parsed (nesting at most `maxDepth`), form-encoded becomes an object, anything else is kept as text.
 * A form whose only field is `payload` holding JSON (GitHub's form mode, Slack interactivity) becomes that JSON.
 */
export function decodeBody(bytes: Uint8Array, contentType: string | null, maxDepth: number): unknown {
  if (bytes.byteLength === 0) return null
  const text = new TextDecoder().decode(bytes)
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return parseJson(text, maxDepth)
  const body = mediaType === 'application/x-www-form-urlencoded' ? decodeForm(text, maxDepth) : text
  requireStorable(body, 'body')
  return body
}

function decodeForm(text: string, maxDepth: number) {
  const fields = Object.fromEntries(new URLSearchParams(text))
  const keys = Object.keys(fields)
  if (keys.length !== 1 || keys[0] !== 'payload') return fields
  try {
    return parseJson(fields.payload!, maxDepth, 'body.payload')
  } catch (error) {
    // A payload field that is not JSON is just a field.
    if (error instanceof HttpError && error.code === 'invalid_json') return fields
    throw error
  }
}

/** Refuses a NUL or a lone surrogate anywhere in a decoded part of the request. */
export function requireStorable(value: unknown, name: string) {
  const where = findUnstorableText(value)
  if (where !== null) throw unstorableText(where ? `${name}.${where}` : name)
}
