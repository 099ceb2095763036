import { confirm, isCancel } from '@clack/prompts'
import { env } from './env.ts'
import { choseCancel, CliError, interrupted } from './errors.ts'

/** Unwraps a prompt's answer; Ctrl-C or Escape ends the command with exit code 130. */
export async function answer<T>(prompt: Promise<T>): Promise<Exclude<T, symbol>> {
  const value = await prompt
  if (isCancel(value)) throw interrupted()
  return value as Exclude<T, symbol>
}

export function requireTerminal(flagsHint: string) {
  if (!env.interactive) throw new CliError(`No terminal to ask in: ${flagsHint}`)
}

/** Asks in a terminal unless `--yes` was given; without a terminal, `--yes` is required. */
export async function confirmOrExit(question: string, yes: boolean | undefined) {
  if (yes) return
  requireTerminal('add --yes to go ahead without a prompt.')
  if (!(await answer(confirm({ message: question, initialValue: false })))) throw choseCancel()
}
