import { Elysia } from 'elysia'
import { parseJson, readLimitedBody } from '@zap/lib/body'
import { HttpError } from '@zap/lib/errors'

export type BodyLimits = { maxBytes: number; maxJsonDepth: number }

/** Every body is JSON, read up to `maxBytes` and nested at most `maxJsonDepth` deep, before any route sees it. */
export const jsonBodies = ({ maxBytes, maxJsonDepth }: BodyLimits) =>
  new Elysia({ name: 'zap/json-bodies' }).onParse({ as: 'global' }, async ({ request, contentType }) => {
    const mediaType = contentType?.split(';')[0]?.trim().toLowerCase() ?? ''
    if (mediaType !== '' && mediaType !== 'application/json' && !mediaType.endsWith('+json')) {
      throw new HttpError(415, 'unsupported_media_type', 'Send the body as JSON (Content-Type: application/json)')
    }
    const bytes = await readLimitedBody(request, maxBytes)
    if (bytes.byteLength === 0) return undefined
    return parseJson(new TextDecoder().decode(bytes), maxJsonDepth, '')
  })
