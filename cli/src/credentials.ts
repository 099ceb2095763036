import { password as passwordPrompt, text } from '@clack/prompts'
import type { Command } from 'commander'
import { env, zapCommand } from './env.ts'
import { CliError } from './errors.ts'
import { answer, requireTerminal } from './prompts.ts'

export type CredentialFlags = { email?: string; name?: string; passwordStdin?: boolean }

export const credentialOptions = (command: Command) =>
  command
    .option('--email <email>', 'your email address, e.g. --email ada@example.com')
    .option('--password-stdin', `read the password from standard input, e.g. echo "$PASS" | ${zapCommand} login --email a@b.c --password-stdin`)

/** Takes each credential from its flag, else asks for it in a terminal. */
export async function readCredentials(flags: CredentialFlags, askName: boolean) {
  const email = flags.email ?? (await ask(() => text({ message: 'Email', validate: required('an email') }), '--email'))
  const name = askName ? (flags.name ?? (await ask(() => text({ message: 'Your name', validate: required('a name') }), '--name'))) : undefined
  const password = flags.passwordStdin
    ? await readPasswordFromStdin()
    : await ask(() => passwordPrompt({ message: 'Password', validate: required('a password') }), '--password-stdin')
  return { email, password, name }
}

export const tokenOverrideNote = () =>
  env.token ? '\nNote: ZAP_TOKEN is set in your environment and takes precedence over the saved login.' : ''

async function ask(prompt: () => Promise<string | symbol>, flag: string) {
  requireTerminal(`pass ${flag}.`)
  return answer(prompt())
}

const required = (what: string) => (value: string | undefined) => (value?.trim() ? undefined : `Enter ${what}`)

async function readPasswordFromStdin() {
  const password = (await Bun.stdin.text()).replace(/\r?\n$/, '')
  if (!password) throw new CliError(`--password-stdin got an empty password. Pipe it in, e.g. echo "$PASS" | ${zapCommand} login --password-stdin`)
  return password
}
