import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { checkId } from '../ids.ts'
import { printJson, withSpinner } from '../output.ts'
import { printRun } from '../run-view.ts'
import type { Run } from '../types.ts'

export const runsShowCommand = () =>
  new Command('show')
    .description('Show a run: its steps with status, attempts, duration and error')
    .argument('<runId>', `the run id, from ${zapCommand} runs list or ${zapCommand} trigger`)
    .option('-v, --verbose', 'also show the trigger and each step\'s input and output')
    .option('--json', 'print the run with its trigger and steps as JSON')
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} runs show 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --verbose\n  $ ${zapCommand} runs show 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --json | jq ".steps[].output"`)
    .action(
      reportErrors(async (runId: string, flags: { verbose?: boolean; json?: boolean }, command: Command) => {
        const { run } = await withSpinner('Loading the run', apiFor(command).get<{ run: Run }>(`/runs/${checkId(runId, 'run')}`))
        if (flags.json) return printJson(run)
        printRun(run, flags.verbose ?? false)
      }),
    )
