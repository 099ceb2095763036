import type { VerifyOf } from '@zap/lib/verify'
import { refuse, sameText, type ReceivedRequest, type Verification } from '../verification.ts'

/** A bearer token: `Authorization: Bearer <token>`, for senders that can only send a fixed token. */
export function verifyBearer(setting: VerifyOf<'bearer'>, { headers }: ReceivedRequest): Verification {
  const authorization = headers.get('authorization')
  if (!authorization?.toLowerCase().startsWith('bearer ')) return refuse('Missing Authorization: Bearer header')
  const given = authorization.slice(7).trim()
  const matches = setting.secrets.map((token) => sameText(given, token)).includes(true)
  return matches ? { ok: true } : refuse('The bearer token does not match the zap’s')
}
