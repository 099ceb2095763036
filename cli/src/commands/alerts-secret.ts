import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { printJson, withSpinner } from '../output.ts'

export const alertsSecretCommand = () =>
  new Command('secret')
    .description('Make (or replace) the secret that signs your failure alert webhooks; it is shown only this once')
    .option('--json', 'print {"secret": "..."} as JSON')
    .addHelpText(
      'after',
      `
Alerts are sent when a zap with "onFailure" has a run that finally fails; verify their
webhook-signature header with any Standard Webhooks library and this secret.
Examples:
  $ ${zapCommand} alerts secret
  $ ${zapCommand} zaps edit <zapId> --file on-failure.json   # {"onFailure": {"webhook": "https://...", "email": "ops@example.com"}}`,
    )
    .action(
      reportErrors(async (flags: { json?: boolean }, command: Command) => {
        const { secret } = await withSpinner('Making a new alert secret', apiFor(command).post<{ secret: string }>('/alerts/secret', {}))
        if (flags.json) return printJson({ secret })
        console.log(`Alert secret (shown only now; an earlier one no longer signs):\n${secret}`)
      }),
    )
