import { Command } from 'commander'
import { connectApi, resolveApiUrl } from '../api.ts'
import { saveLogin } from '../config.ts'
import { credentialOptions, readCredentials, tokenOverrideNote, type CredentialFlags } from '../credentials.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'

export const loginCommand = () =>
  credentialOptions(new Command('login').description('Log in and save the token in your config directory (mode 0600)'))
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} login\n  $ echo "$PASS" | ${zapCommand} login --email ada@example.com --password-stdin\n  $ ${zapCommand} login --api https://zap.example.com`)
    .action(
      reportErrors(async (flags: CredentialFlags, command: Command) => {
        const api = connectApi({ api: resolveApiUrl(command) })
        await api.requireReady()
        const { email, password } = await readCredentials(flags, false)
        const { token } = await api.post<{ token: string }>('/auth/login', { email, password })
        const { user } = await connectApi({ api: api.apiUrl, token }).get<{ user: { email: string } }>('/me')
        saveLogin({ apiUrl: api.apiUrl, token, email: user.email })
        console.log(`Logged in as ${user.email} on ${api.apiUrl}.${tokenOverrideNote()}`)
      }),
    )
