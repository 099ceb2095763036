import { Command } from 'commander'
import { apiFor } from './api.ts'
import { zapCommand } from './env.ts'
import { reportErrors } from './errors.ts'
import { checkId } from './ids.ts'
import type { Zap } from './types.ts'

/** `zap zaps enable` and `zap zaps disable` differ only in the state they set. */
export const zapStateCommand = (enabled: boolean) => {
  const verb = enabled ? 'enable' : 'disable'
  return new Command(verb)
    .description(enabled ? 'Enable a zap: its webhook accepts requests again' : 'Disable a zap: its webhook answers 409 until enabled')
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .addHelpText('after', `\nExample:\n  $ ${zapCommand} zaps ${verb} 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11`)
    .action(
      reportErrors(async (zapId: string, _flags: object, command: Command) => {
        const { zap } = await apiFor(command).patch<{ zap: Zap }>(`/zaps/${checkId(zapId, 'zap')}`, { enabled })
        console.log(`${enabled ? 'Enabled' : 'Disabled'} zap "${zap.name}" (${zap.id}).`)
      }),
    )
}
