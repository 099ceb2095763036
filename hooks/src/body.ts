import { HttpError } from '@zap/lib/errors'

/** Reads the body counting the bytes actually received, refusing it once past the limit. */
export async function readLimitedBody(request: Request, maxBytes: number) {
  if (!request.body) return new Uint8Array(0)
  const chunks: Uint8Array[] = []
  let size = 0
  for await (const chunk of request.body) {
    size += chunk.byteLength
    if (size > maxBytes) throw new HttpError(413, 'body_too_large', `The body is larger than the limit of ${maxBytes} bytes`)
    chunks.push(chunk)
  }
  return chunks.length === 1 ? chunks[0]! : Buffer.concat(chunks)
}

/** JSON is parsed, form-encoded becomes an object, anything else is kept as text. */
export function decodeBody(bytes: Uint8Array, contentType: string | null): unknown {
  if (bytes.byteLength === 0) return null
  const text = new TextDecoder().decode(bytes)
  const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
  if (mediaType === 'application/json' || mediaType.endsWith('+json')) {
    try {
      return JSON.parse(text)
    } catch {
      throw new HttpError(400, 'invalid_json', 'The body is not valid JSON (Content-Type says it is)')
    }
  }
  if (mediaType === 'application/x-www-form-urlencoded') return Object.fromEntries(new URLSearchParams(text))
  return text
}
