import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { ago, inert, paint, paintStatus, printJson, printTable } from '../output.ts'
import type { StatusSummary } from '../types.ts'

const statuses = ['queued', 'waiting', 'running', 'succeeded', 'failed', 'debounced', 'cancelled'] as const

export const statusCommand = () =>
  new Command('status')
    .description('How your runs are doing: runs by status in the last hour and day, the oldest queued run, failures by zap')
    .option('--json', `print the summary as JSON, e.g. ${zapCommand} status --json | jq .lastHour.failed`)
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} status\n  $ ${zapCommand} status --json`)
    .action(
      reportErrors(async (flags: { json?: boolean }, command: Command) => {
        const { status } = await apiFor(command).get<{ status: StatusSummary }>('/status')
        if (flags.json) return printJson(status)
        printTable(
          ['RUNS', ...statuses.map((name) => name.toUpperCase())],
          [
            ['last hour', ...statuses.map((name) => paintStatus(name, String(status.lastHour[name])))],
            ['last day', ...statuses.map((name) => paintStatus(name, String(status.lastDay[name])))],
          ],
        )
        const oldest = status.oldestQueued
        console.log(`\nOldest queued run: ${oldest ? `${oldest.runId} (zap ${oldest.zapId}), waiting ${formatAge(oldest.ageSeconds)}` : 'none'}`)
        if (status.failuresByZap.length === 0) return console.log(paint.green('No failed runs in the last day.'))
        console.log(`\n${paint.bold('Failures in the last day')}`)
        printTable(
          ['ZAP', 'NAME', 'FAILED', 'LAST'],
          status.failuresByZap.map((zap) => [zap.zapId, inert(zap.zapName), paint.red(String(zap.failed)), ago(zap.lastFailedAt)]),
        )
        console.log(`\nSee them: ${zapCommand} runs list --status failed --zap <zapId>; replay: ${zapCommand} runs replay --failed --zap <zapId>`)
      }),
    )

function formatAge(seconds: number) {
  if (seconds < 120) return `${seconds} s`
  if (seconds < 7_200) return `${Math.floor(seconds / 60)} min`
  return `${Math.floor(seconds / 3_600)} h`
}
