import { createHmac } from 'node:crypto'
import type { VerifyOf } from '@zap/lib/verify'
import { digestOf, refuse, sameBytes, type ReceivedRequest, type Verification } from '../verification.ts'

/** Shopify: `X-Shopify-Hmac-Sha256: <base64 HMAC-SHA256 of the body>`; `X-Shopify-Webhook-Id` names the delivery. */
export function verifyShopify(setting: VerifyOf<'shopify'>, { headers, body }: ReceivedRequest): Verification {
  const signature = headers.get('x-shopify-hmac-sha256')
  if (!signature) return refuse('Missing X-Shopify-Hmac-Sha256 header')
  const given = Buffer.from(signature, 'base64')
  const matches = setting.secrets.some((secret) => sameBytes(given, createHmac('sha256', secret).update(body).digest()))
  if (!matches) return refuse('X-Shopify-Hmac-Sha256 does not match the zap’s secrets')
  return { ok: true, deliveryId: headers.get('x-shopify-webhook-id') || digestOf(body) }
}
