import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { reportErrors } from '../errors.ts'
import { zapCommand } from '../env.ts'
import { checkId } from '../ids.ts'
import { ago, inert, printJson, printTable, withSpinner } from '../output.ts'
import type { WebhookRejection } from '../types.ts'

export const zapsRejectionsCommand = () =>
  new Command('rejections')
    .description('List the webhooks a zap refused (bad or missing signature, stale timestamp, wrong token) and why, newest first')
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .option('--json', 'print an array of {receivedAt, kind, reason, method, senderIp, bodyBytes, bodyPreview} as JSON (kind: signature or handshake)')
    .addHelpText(
      'after',
      `
The newest 100 refused webhooks and the newest 100 refused subscription checks of the last 7 days are kept.

Examples:
  $ ${zapCommand} zaps rejections 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11
  $ ${zapCommand} zaps rejections 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --json`,
    )
    .action(
      reportErrors(async (zapId: string, flags: { json?: boolean }, command: Command) => {
        const path = `/zaps/${checkId(zapId, 'zap')}/rejections`
        const { rejections } = await withSpinner('Loading rejections', apiFor(command).get<{ rejections: WebhookRejection[] }>(path))
        if (flags.json) return printJson(rejections)
        if (rejections.length === 0) return console.log('No refused webhooks in the last 7 days.')
        printTable(
          ['RECEIVED', 'METHOD', 'SENDER', 'REASON'],
          rejections.map((rejection) => [ago(rejection.receivedAt), inert(rejection.method), inert(rejection.senderIp ?? '-'), inert(rejection.reason)]),
        )
      }),
    )
