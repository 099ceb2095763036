import { ago, duration, paint, paintStatus, printFields, printTable } from './output.ts'
import type { Run, RunStep, RunSummary } from './types.ts'

export const runColumns = ['ID', 'ZAP', 'VERSION', 'STATUS', 'CREATED', 'DURATION']

export const runRow = (run: RunSummary) => [run.id, run.zapId, `v${run.version}`, paintStatus(run.status), ago(run.createdAt), duration(run.createdAt, run.finishedAt)]

export const printRunTable = (runs: RunSummary[]) => printTable(runColumns, runs.map(runRow))

const marks: Record<RunStep['status'], string> = { succeeded: '✓', failed: '✗', skipped: '-', retrying: '↻', waiting: '…', pending: ' ' }

export function stepLine(step: RunStep) {
  const attempts = step.attempts === 1 ? '1 attempt' : `${step.attempts} attempts`
  const error = step.error ? `  ${paint.red(step.error)}` : ''
  return `${paintStatus(step.status, marks[step.status] ?? '…')} ${step.index + 1}. ${step.type} ${paintStatus(step.status)} (${attempts}, ${duration(step.startedAt, step.finishedAt)})${error}`
}

export function printRun(run: Run, verbose: boolean) {
  printFields([
    ['Run', run.id],
    ['Zap', `${run.zapId} (v${run.version})`],
    ['Status', paintStatus(run.status)],
    ['Created', `${run.createdAt} (${ago(run.createdAt)})`],
    ['Duration', duration(run.createdAt, run.finishedAt)],
    ...(run.wait ? [['Waiting', `${run.wait.reason} (since ${ago(run.wait.since)}, looked at again by ${run.wait.until})`] as [string, string]] : []),
    ...(run.debouncedInto ? [['Debounced', `into run ${run.debouncedInto}, which took a later payload: zap runs show ${run.debouncedInto}`] as [string, string]] : []),
    ...(run.replay > 0 ? [['Replayed', replayNote(run)] as [string, string]] : []),
  ])
  if (verbose) console.log(`\n${paint.bold('Trigger')}\n${indent(JSON.stringify(run.trigger, null, 2))}`)
  console.log()
  printTable(
    ['#', 'TYPE', 'STATUS', 'ATTEMPTS', 'DURATION', 'ERROR'],
    run.steps.map((step) => [String(step.index + 1), step.type, paintStatus(step.status), String(step.attempts), duration(step.startedAt, step.finishedAt), step.error ?? '']),
  )
  if (verbose) {
    for (const step of run.steps) {
      console.log(`\n${paint.bold(`Step ${step.index + 1} (${step.type})`)}`)
      console.log(`${indent(`input:  ${JSON.stringify(step.input)}`)}\n${indent(`output: ${JSON.stringify(step.output)}`)}`)
    }
  }
  if (run.status === 'failed') console.log(`\nReplay it from the failed step: zap runs replay ${run.id}`)
}

const replayNote = (run: Run) =>
  `${run.replay} time${run.replay === 1 ? '' : 's'}, last from step ${(run.replayFrom ?? 0) + 1} (${run.replayCause ?? 'manual'}); earlier executions: --json .history`

const indent = (text: string) => text.replace(/^/gm, '  ')
