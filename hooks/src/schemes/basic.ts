import type { VerifyOf } from '@zap/lib/verify'
import { refuse, sameText, type ReceivedRequest, type Verification } from '../verification.ts'

/** HTTP Basic: `Authorization: Basic <base64 of username:password>`, for senders that can only send credentials. */
export function verifyBasic(setting: VerifyOf<'basic'>, { headers }: ReceivedRequest): Verification {
  const authorization = headers.get('authorization')
  if (!authorization?.toLowerCase().startsWith('basic ')) return refuse('Missing Authorization: Basic header')
  const given = Buffer.from(authorization.slice(6).trim(), 'base64').toString()
  // Every configured credential is compared, so the time taken does not say which one came close.
  const matches = setting.secrets.map((credentials) => sameText(given, credentials)).includes(true)
  return matches ? { ok: true } : refuse('The Basic credentials do not match the zap’s')
}
