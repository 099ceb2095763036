import { Command } from 'commander'
import { endSavedLogin } from '../api.ts'
import { configPath, forgetLogin } from '../config.ts'
import { tokenOverrideNote } from '../credentials.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'

export const logoutCommand = () =>
  new Command('logout')
    .description(`Forget the saved login; its API address stays in ${configPath} for the next login`)
    .addHelpText('after', `\nExample:\n  $ ${zapCommand} logout`)
    .action(
      reportErrors(async () => {
        const ended = await endSavedLogin()
        console.log(forgetLogin() ? `Logged out.${ended}${tokenOverrideNote()}` : `Not logged in; nothing to do.${tokenOverrideNote()}`)
      }),
    )
