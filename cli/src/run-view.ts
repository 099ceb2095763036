import { zapCommand } from './env.ts'
import { ago, duration, inert, inertJson, paint, paintStatus, printFields, printTable } from './output.ts'
import type { Run, RunStep, RunSummary } from './types.ts'

export const runColumns = ['ID', 'ZAP', 'VERSION', 'STATUS', 'CREATED', 'DURATION']

export const runRow = (run: RunSummary) => [run.id, run.zapId, `v${run.version}`, paintStatus(run.status), ago(run.createdAt), duration(run.createdAt, run.finishedAt)]

export const printRunTable = (runs: RunSummary[]) => printTable(runColumns, runs.map(runRow))

const marks: Record<RunStep['status'], string> = { succeeded: '✓', failed: '✗', skipped: '-', retrying: '↻', waiting: '…', pending: ' ' }

export function stepLine(step: RunStep) {
  const attempts = step.attempts === 1 ? '1 attempt' : `${step.attempts} attempts`
  const error = step.error ? `  ${paint.red(inert(step.error))}` : ''
  const result = step.error ? null : stepResult(step)
  return `${paintStatus(step.status, marks[step.status] ?? '…')} ${step.index + 1}. ${step.type} ${paintStatus(step.status)} (${attempts}, ${duration(step.startedAt, step.finishedAt)})${result ? ` → ${result}` : ''}${error}`
}

/** What a step came to, in a few words: the message logged, the HTTP status, the filter's decision. */
export function stepResult(step: RunStep): string | null {
  const output = (step.output ?? null) as Record<string, unknown> | null
  if (output === null) return null
  if (step.status === 'waiting' && typeof output.until === 'string') return `until ${inert(output.until)}`
  if (step.status !== 'succeeded') return null
  switch (step.type) {
    case 'log':
      return preview(output.message)
    case 'http':
      return `HTTP ${inert(String(output.status))}${output.truncated ? ' (body truncated)' : ''}`
    case 'filter': {
      const results = Array.isArray(output.results) ? (output.results as { holds: boolean }[]) : []
      const held = `${results.filter((result) => result.holds).length} of ${results.length} conditions held`
      return output.passed ? `passed (${held})` : `did not pass (${held}); the run stops here`
    }
    case 'delay':
      return `waited until ${inert(String(output.waitedUntil))}`
    case 'stop':
      return `stopped the run: ${preview(output.reason)}`
    case 'email':
      return `sent to ${Array.isArray(output.accepted) ? inert(output.accepted.join(', ')) : 'the SMTP server'}`
    default:
      return preview(output)
  }
}

/** Each step's full output, for --verbose. */
export const stepOutput = (step: RunStep) => indent(`output: ${inertJson(step.output, 2)}`)

const previewChars = 100

// One line, so a step stays one line however long or multi-line its output is.
function preview(value: unknown) {
  const text = inert((typeof value === 'string' ? value : JSON.stringify(value) ?? '').replace(/\s+/g, ' '))
  return text.length > previewChars ? `${text.slice(0, previewChars - 1)}…` : text
}

export function printRun(run: Run, verbose: boolean) {
  printFields([
    ['Run', run.id],
    ['Zap', `${run.zapId} (v${run.version})`],
    ['Status', paintStatus(run.status)],
    ['Created', `${run.createdAt} (${ago(run.createdAt)})`],
    ['Duration', duration(run.createdAt, run.finishedAt)],
    ...(run.wait ? [['Waiting', `${run.wait.reason} (since ${ago(run.wait.since)}, looked at again by ${run.wait.until})`] as [string, string]] : []),
    ...(run.debouncedInto ? [['Debounced', `into run ${run.debouncedInto}, which took a later payload: ${zapCommand} runs show ${run.debouncedInto}`] as [string, string]] : []),
    ...(run.replay === 0 && run.replayCause === 'schedule' ? [['Started by', `its schedule, for the tick at ${(run.trigger.body as { scheduledAt?: string }).scheduledAt}`] as [string, string]] : []),
    ...(run.replay > 0 ? [['Replayed', replayNote(run)] as [string, string]] : []),
  ])
  if (verbose) console.log(`\n${paint.bold('Trigger')}\n${indent(inertJson(run.trigger, 2))}`)
  console.log()
  printTable(
    ['#', 'TYPE', 'STATUS', 'ATTEMPTS', 'DURATION', 'ERROR'],
    run.steps.map((step) => [String(step.index + 1), step.type, paintStatus(step.status), String(step.attempts), duration(step.startedAt, step.finishedAt), inert(step.error ?? '')]),
  )
  if (verbose) {
    for (const step of run.steps) {
      console.log(`\n${paint.bold(`Step ${step.index + 1} (${step.type})`)}`)
      console.log(`${indent(`input:  ${inertJson(step.input)}`)}\n${indent(`output: ${inertJson(step.output)}`)}`)
    }
  }
  if (run.status === 'failed') console.log(`\nReplay it from the failed step: ${zapCommand} runs replay ${run.id}`)
}

const replayNote = (run: Run) =>
  `${run.replay} time${run.replay === 1 ? '' : 's'}, last from step ${(run.replayFrom ?? 0) + 1} (${run.replayCause ?? 'manual'}); earlier executions: --json .history`

const indent = (text: string) => text.replace(/^/gm, '  ')
