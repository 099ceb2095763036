import { SMTPServer } from 'smtp-server'
import { simpleParser, type AddressObject } from 'mailparser'
import type { Logger } from '@zap/lib/log'

const maxMessageBytes = 10 * 1024 * 1024
const textPreviewChars = 2_000

/**
 * `bun run dev` without SMTP_URL: an SMTP server on this machine's loopback that accepts every email
 * and logs it as an `email caught` line, so `email` steps and failure alerts work offline.
 */
export async function startMailCatcher(log: Logger) {
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    size: maxMessageBytes,
    onData(stream, _session, callback) {
      simpleParser(stream).then(
        (mail) => {
          log.info(
            { from: addressesOf(mail.from), to: addressesOf(mail.to), subject: mail.subject ?? '', text: (mail.text ?? '').trim().slice(0, textPreviewChars) },
            'email caught',
          )
          callback()
        },
        (error: Error) => callback(error),
      )
    },
  })
  const port = await new Promise<number>((resolve, reject) => {
    server.once('error', reject)
    server.listen(0, '127.0.0.1', () => resolve((server.server.address() as { port: number }).port))
  })
  return {
    url: `smtp://127.0.0.1:${port}`,
    stop: () => new Promise<void>((resolve) => server.close(() => resolve())),
  }
}

function addressesOf(field: AddressObject | AddressObject[] | undefined) {
  return [field ?? []].flat().flatMap((entry) => entry.value.map((address) => address.address ?? ''))
}
