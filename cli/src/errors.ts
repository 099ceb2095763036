import { zapCommand } from './env.ts'

/** An error the user can act on: one line saying what went wrong and what to do. */
export class CliError extends Error {
  constructor(
    message: string,
    readonly exitCode = 1,
  ) {
    super(message)
  }
}

export const notLoggedIn = () => new CliError(`Not logged in. Run: ${zapCommand} login`)
export const sessionExpired = () => new CliError(`Your login is invalid or has expired. Run: ${zapCommand} login`)
export const envTokenRejected = () =>
  new CliError('The ZAP_TOKEN environment variable holds a token the API does not accept (invalid or expired). Set it to a valid token, or unset it to use your saved login.')
export const interrupted = () => new CliError('Cancelled.', 130)
export const choseCancel = () => new CliError('Cancelled.', 0)

/** Runs a command action; any error becomes one line on stderr and the exit code. */
export function reportErrors<Args extends unknown[]>(action: (...args: Args) => Promise<void>) {
  return async (...args: Args) => {
    try {
      await action(...args)
    } catch (error) {
      const exitCode = error instanceof CliError ? error.exitCode : 1
      const message = error instanceof Error ? error.message : String(error)
      console.error(exitCode === 1 ? `Error: ${message}` : message)
      process.exit(exitCode)
    }
  }
}
