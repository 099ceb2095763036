import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { printJson, withSpinner } from '../output.ts'
import { runFilterOptions, runQuery, type RunFilterFlags } from '../run-filters.ts'
import { printRunTable } from '../run-view.ts'
import type { RunSummary } from '../types.ts'

export const runsListCommand = () =>
  runFilterOptions(new Command('list').alias('ls').description('List your runs, newest first'), 20)
    .option('--json', `print an array of runs as JSON, e.g. ${zapCommand} runs list --status failed --json | jq length`)
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} runs list\n  $ ${zapCommand} runs list --zap 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --status failed --limit 100`)
    .action(
      reportErrors(async (flags: RunFilterFlags & { json?: boolean }, command: Command) => {
        const { runs } = await withSpinner('Loading runs', apiFor(command).get<{ runs: RunSummary[] }>(`/runs?${runQuery(flags)}`))
        if (flags.json) return printJson(runs)
        if (runs.length === 0) return console.log(`No runs match. Trigger a zap: ${zapCommand} trigger <zapId> --data '{}'`)
        printRunTable(runs)
      }),
    )
