import { Command } from 'commander'
import { connectApi, resolveApiUrl } from '../api.ts'
import { saveLogin } from '../config.ts'
import { credentialOptions, readCredentials, tokenOverrideNote, type CredentialFlags } from '../credentials.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'

export const signupCommand = () =>
  credentialOptions(new Command('signup').description('Create an account and log in'))
    .option('--name <name>', 'your name, e.g. --name "Ada Lovelace"')
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} signup\n  $ echo "$PASS" | ${zapCommand} signup --email ada@example.com --name Ada --password-stdin`)
    .action(
      reportErrors(async (flags: CredentialFlags, command: Command) => {
        const api = connectApi({ api: resolveApiUrl(command) })
        await api.requireReady()
        const { email, password, name } = await readCredentials(flags, true)
        const { token, user } = await api.post<{ token: string; user: { email: string } }>('/auth/signup', { email, password, name })
        saveLogin({ apiUrl: api.apiUrl, token, email: user.email })
        console.log(`Signed up and logged in as ${user.email} on ${api.apiUrl}.${tokenOverrideNote()}`)
      }),
    )
