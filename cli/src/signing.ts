import { createHmac } from 'node:crypto'
import { CliError } from './errors.ts'
import type { Zap } from './types.ts'

type Verify = NonNullable<Zap['verify']>

/**
 * Adds the headers the zap's sender would send, signed with `secret` the way its scheme says, so a
 * protected zap can be tried from the terminal. Each request gets a fresh delivery id and timestamp.
 */
export function signRequest(verify: Verify, secret: string, body: string, headers: Headers) {
  const id = crypto.randomUUID()
  const timestamp = String(Math.floor(Date.now() / 1000))
  const hmac = (algorithm: string, key: string | Buffer, ...parts: string[]) => createHmac(algorithm, key).update(parts.join(''))
  switch (verify.scheme) {
    case 'standard-webhooks': {
      if (verify.secretCount === 0) throw new CliError('This zap verifies ed25519 (v1a) signatures only: sign with your sender’s private key, --secret signs v1 only.')
      const key = Buffer.from(secret.startsWith('whsec_') ? secret.slice(6) : secret, 'base64')
      headers.set('webhook-id', `msg_${id}`)
      headers.set('webhook-timestamp', timestamp)
      headers.set('webhook-signature', `v1,${hmac('sha256', key, `msg_${id}.${timestamp}.`, body).digest('base64')}`)
      return
    }
    case 'github':
      headers.set('x-github-delivery', id)
      headers.set('x-hub-signature-256', `sha256=${hmac('sha256', secret, body).digest('hex')}`)
      return
    case 'stripe':
      headers.set('stripe-signature', `t=${timestamp},v1=${hmac('sha256', secret, `${timestamp}.`, body).digest('hex')}`)
      return
    case 'shopify':
      headers.set('x-shopify-webhook-id', id)
      headers.set('x-shopify-hmac-sha256', hmac('sha256', secret, body).digest('base64'))
      return
    case 'slack':
      headers.set('x-slack-request-timestamp', timestamp)
      headers.set('x-slack-signature', `v0=${hmac('sha256', secret, `v0:${timestamp}:`, body).digest('hex')}`)
      return
    case 'hmac': {
      const values: Record<string, string> = { body, timestamp, id }
      const signed = (verify.signedContent ?? '{body}').replace(/\{(body|timestamp|id)\}/g, (_, name: string) => values[name]!)
      if (verify.timestampHeader) headers.set(verify.timestampHeader, timestamp)
      if (verify.idHeader) headers.set(verify.idHeader, id)
      const digest = hmac(verify.algorithm ?? 'sha256', secret, signed).digest(verify.encoding === 'base64' ? 'base64' : 'hex')
      headers.set(verify.header!, `${verify.prefix ?? ''}${digest}`)
      return
    }
    case 'basic':
      headers.set('authorization', `Basic ${Buffer.from(secret).toString('base64')}`)
      return
    case 'bearer':
      headers.set('authorization', `Bearer ${secret}`)
      return
    case 'none':
      throw new CliError('This zap does not verify its webhooks: drop --secret (and ZAP_SIGNING_SECRET).')
  }
}
