import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { checkId } from '../ids.ts'
import { confirmOrExit } from '../prompts.ts'
import type { Zap } from '../types.ts'

export const zapsDeleteCommand = () =>
  new Command('delete')
    .alias('rm')
    .description('Delete a zap; its webhook stops accepting requests (asks first in a terminal)')
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .option('-y, --yes', 'delete without asking; required when not in a terminal')
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} zaps delete 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11\n  $ ${zapCommand} zaps delete 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --yes`)
    .action(
      reportErrors(async (zapId: string, flags: { yes?: boolean }, command: Command) => {
        const path = `/zaps/${checkId(zapId, 'zap')}`
        const api = apiFor(command)
        if (!flags.yes) {
          const { zap } = await api.get<{ zap: Zap }>(path)
          await confirmOrExit(`Delete zap "${zap.name}" (${zap.id})? Its webhook will stop accepting requests.`, flags.yes)
        }
        await api.delete(path)
        console.log(`Deleted zap ${zapId}.`)
      }),
    )
