import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { paint, paintStatus, duration } from '../output.ts'
import { runFilterOptions, runQuery, type RunFilterFlags } from '../run-filters.ts'
import type { RunSummary } from '../types.ts'

const pollMs = 1000
const pollWindow = 100

export const runsWatchCommand = () =>
  runFilterOptions(new Command('watch').description('Live-tail runs: prints the latest (--limit), then each new run and change of status until Ctrl-C'), 10)
    .option('--json', 'print one JSON object per line for each new or changed run')
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} runs watch\n  $ ${zapCommand} runs watch --zap 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --status failed\n  $ ${zapCommand} runs watch --json | jq -c "select(.status == \\"failed\\")"`)
    .action(
      reportErrors(async (flags: RunFilterFlags & { json?: boolean }, command: Command) => {
        const api = apiFor(command)
        process.once('SIGINT', () => process.exit(0))
        const seen = new Map<string, string>()
        const query = runQuery({ ...flags, limit: String(Math.max(pollWindow, Number(flags.limit))) })
        if (!flags.json) console.log(paint.bold(formatLine('CREATED', 'RUN', 'ZAP', 'STATUS', 'DURATION')))
        for (let first = true; ; first = false) {
          const { runs } = await api.get<{ runs: RunSummary[] }>(`/runs?${query}`)
          const changed = runs.filter((run) => seen.get(run.id) !== run.status)
          for (const run of changed) seen.set(run.id, run.status)
          for (const run of (first ? changed.slice(0, Number(flags.limit)) : changed).toReversed()) {
            console.log(flags.json ? JSON.stringify(run) : runLine(run))
          }
          await Bun.sleep(pollMs)
        }
      }),
    )

const widths = [11, 36, 36, 9]

const runLine = (run: RunSummary) =>
  formatLine(new Date(run.createdAt).toLocaleTimeString(), run.id, run.zapId, paintStatus(run.status), duration(run.createdAt, run.finishedAt))

function formatLine(...cells: string[]) {
  return cells.map((cell, column) => cell + ' '.repeat(Math.max(0, (widths[column] ?? 0) - Bun.stringWidth(cell)))).join('  ').trimEnd()
}
