import { Command } from 'commander'
import { existsSync } from 'node:fs'
import { join } from 'node:path'
import { zapCommand } from '../env.ts'
import { CliError, reportErrors } from '../errors.ts'

const server = join(import.meta.dir, '..', '..', '..', 'standalone', 'src', 'main.ts')

export const devCommand = () =>
  new Command('dev')
    .description('Run the whole of zap in this terminal: embedded PostgreSQL, API, webhooks and workers (same as bun run dev)')
    .addHelpText(
      'after',
      `\nConfigured through the environment, e.g. ZAP_DATA_DIR (default ./.zap), API_PORT, HOOKS_PORT,\nDATABASE_URL and KAFKA_BROKERS to use real servers instead.\n\nExamples:\n  $ ${zapCommand} dev\n  $ ZAP_DATA_DIR=/tmp/zap API_PORT=4001 ${zapCommand} dev`,
    )
    .action(
      reportErrors(async () => {
        if (!existsSync(server)) throw new CliError(`${zapCommand} dev runs from a checkout of zap: cd into it and run bun run dev`)
        const child = Bun.spawn([process.execPath, server], {
          // Its banner's hints name the command as the user ran it.
          env: { ...Bun.env, ZAP_INVOKED_AS: zapCommand },
          stdio: ['inherit', 'inherit', 'inherit'],
        })
        for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => child.kill(signal))
        process.exit(await child.exited)
      }),
    )
