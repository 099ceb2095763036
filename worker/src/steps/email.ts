import * as v from 'valibot'
import type * as Nodemailer from 'nodemailer'
import { isEmailAddress, maxRecipients, recipientsOf, type emailConfig } from '@zap/lib/steps'
import { jsonPreview } from '../size.ts'
import { permanentFailure, retryableFailure, succeeded, type StepOutcome } from './result.ts'

type EmailConfig = v.InferOutput<typeof emailConfig>

export type Mailer = { send: (config: EmailConfig, idempotencyKey: string) => Promise<StepOutcome> }

/** Sends a rendered email step. Its recipients are checked again after rendering, every one, whatever their form. */
export async function runEmailStep(config: EmailConfig, mailer: Mailer | null, idempotencyKey: string): Promise<StepOutcome> {
  if (!mailer) return permanentFailure('Email is not configured on this worker: set SMTP_URL')
  const to = recipientsOf(config.to)
  if (to.length === 0 || to.length > maxRecipients) return permanentFailure(`An email has 1 to ${maxRecipients} recipients; the rendered "to" holds ${to.length}`)
  const invalid = to.find((address) => !isEmailAddress(address))
  if (invalid !== undefined) return permanentFailure(`The rendered recipient ${jsonPreview(invalid, 100)} is not an email address`)
  return mailer.send({ ...config, to }, idempotencyKey)
}

/** An SMTP mailer from SMTP_URL (smtp:// or smtps://), or null when email is not configured. */
export function createMailer(smtpUrl: string | undefined, from: string, timeoutMs: number): Mailer | null {
  if (!smtpUrl) return null
  // Loaded only when email is configured: nodemailer costs a worker 3.5 MB resident.
  const nodemailer = require('nodemailer') as typeof Nodemailer
  const transport = nodemailer.createTransport(
    { url: smtpUrl, pool: true, maxConnections: 5, connectionTimeout: timeoutMs, greetingTimeout: timeoutMs, socketTimeout: timeoutMs },
    { from },
  )
  return {
    async send(config, idempotencyKey) {
      try {
        const info = await transport.sendMail({
          to: config.to,
          subject: config.subject,
          text: config.text,
          html: config.html,
          messageId: `<${idempotencyKey.replace(':', '.')}@zap>`,
        })
        return succeeded({ messageId: info.messageId, accepted: info.accepted, rejected: info.rejected, response: info.response })
      } catch (error) {
        const { responseCode, message } = error as { responseCode?: number; message: string }
        if (responseCode && responseCode >= 500) return permanentFailure(`The SMTP server refused the email: ${message}`)
        return retryableFailure(`Sending the email failed: ${message}`)
      }
    },
  }
}
