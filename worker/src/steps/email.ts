import * as v from 'valibot'
import nodemailer from 'nodemailer'
import type { emailConfig } from '@zap/lib/steps'
import { permanentFailure, retryableFailure, succeeded, type StepOutcome } from './result.ts'

type EmailConfig = v.InferOutput<typeof emailConfig>

export type Mailer = { send: (config: EmailConfig, idempotencyKey: string) => Promise<StepOutcome> }

/** An SMTP mailer from SMTP_URL (smtp:// or smtps://), or null when email is not configured. */
export function createMailer(smtpUrl: string | undefined, from: string, timeoutMs: number): Mailer | null {
  if (!smtpUrl) return null
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
