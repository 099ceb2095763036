import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { printFields, printJson } from '../output.ts'
import type { User } from '../types.ts'

export const whoamiCommand = () =>
  new Command('whoami')
    .description('Show the logged-in user and the API in use')
    .option('--json', `print the user as JSON, e.g. ${zapCommand} whoami --json | jq -r .email`)
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} whoami\n  $ ${zapCommand} whoami --json`)
    .action(
      reportErrors(async (flags: { json?: boolean }, command: Command) => {
        const api = apiFor(command)
        const { user } = await api.get<{ user: User }>('/me')
        if (flags.json) return printJson(user)
        printFields([['Email', user.email], ['Name', user.name], ['Id', user.id], ['API', api.apiUrl]])
      }),
    )
