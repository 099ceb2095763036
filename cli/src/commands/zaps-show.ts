import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { checkId } from '../ids.ts'
import { printJson, withSpinner } from '../output.ts'
import { printZap } from '../zap-view.ts'
import type { Zap } from '../types.ts'

export const zapsShowCommand = () =>
  new Command('show')
    .description('Show a zap: its webhook URL, state, version and steps')
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .option('--json', `print the zap as JSON, e.g. ${zapCommand} zaps show <id> --json | jq -r .webhookUrl`)
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} zaps show 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11\n  $ ${zapCommand} zaps show 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --json`)
    .action(
      reportErrors(async (zapId: string, flags: { json?: boolean }, command: Command) => {
        const { zap } = await withSpinner('Loading the zap', apiFor(command).get<{ zap: Zap }>(`/zaps/${checkId(zapId, 'zap')}`))
        if (flags.json) return printJson(zap)
        printZap(zap)
      }),
    )
