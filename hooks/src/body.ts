import { findUnstorableText, parseJson, unstorableText } from '@zap/lib/body'

/** JSON is parsed (nesting at most `maxDepth`), form-encoded becomes an object, anything else is kept as text. */
export function decodeBody(bytes: Uint8Array, contentType: string | null, maxDepth: number): unknown {
  if (bytes.byteLength === 0) return null
  const text = new TextDecoder().decode(bytes)
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) return parseJson(text, maxDepth)
  const body = mediaType === 'application/x-www-form-urlencoded' ? Object.fromEntries(new URLSearchParams(text)) : text
  requireStorable(body, 'body')
  return body
}

/** Refuses a NUL or a lone surrogate anywhere in a decoded part of the request. */
export function requireStorable(value: unknown, name: string) {
  const where = findUnstorableText(value)
  if (where !== null) throw unstorableText(where ? `${name}.${where}` : name)
}
