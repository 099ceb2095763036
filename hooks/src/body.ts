import { HttpError } from '@zap/lib/errors'

/** Reads the body counting the bytes actually received, refusing it once past the limit. */
export async function readLimitedBody(request: Request, maxBytes: number) {
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
