import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { printJson, withSpinner } from '../output.ts'
import { printZapTable } from '../zap-view.ts'
import type { Zap } from '../types.ts'

export const zapsListCommand = () =>
  new Command('list')
    .alias('ls')
    .description('List your zaps, newest first')
    .option('--json', `print an array of zaps as JSON, e.g. ${zapCommand} zaps list --json | jq -r ".[].id"`)
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} zaps list\n  $ ${zapCommand} zaps list --json`)
    .action(
      reportErrors(async (flags: { json?: boolean }, command: Command) => {
        const { zaps } = await withSpinner('Loading zaps', apiFor(command).get<{ zaps: Zap[] }>('/zaps'))
        if (flags.json) return printJson(zaps)
        if (zaps.length === 0) return console.log(`No zaps yet. Create one: ${zapCommand} zaps create`)
        printZapTable(zaps)
      }),
    )
