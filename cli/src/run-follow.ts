import type { Api } from './api.ts'
import { CliError } from './errors.ts'
import { printJson } from './output.ts'
import { stepLine } from './run-view.ts'
import type { Run } from './types.ts'

const pollMs = 250
const finished = new Set(['succeeded', 'failed', 'skipped'])

/** Follows a run to its end, then prints it (as JSON, or a summary line); a failed run exits 1. */
export async function waitForRun(api: Api, runId: string, json: boolean) {
  const run = await followRun(api, runId, !json)
  if (json) printJson(run)
  else console.log(`Run ${run.status}. Details: zap runs show ${run.id}`)
  if (run.status === 'failed') throw runFailed(run)
}

// Prints each step once as it finishes, and each failed attempt that will be retried.
async function followRun(api: Api, runId: string, print: boolean): Promise<Run> {
  const printed = new Set<string>()
  for (;;) {
    const { run } = await api.get<{ run: Run }>(`/runs/${runId}`)
    for (const step of run.steps) {
      const done = finished.has(step.status)
      const retrying = !done && step.error !== null
      const key = done ? `${step.index}:done` : `${step.index}:${step.attempts}`
      if ((done || retrying) && !printed.has(key)) {
        printed.add(key)
        if (print) console.log(stepLine(step))
      }
    }
    if (run.status === 'succeeded' || run.status === 'failed') return run
    await Bun.sleep(pollMs)
  }
}

function runFailed(run: Run) {
  const step = run.steps.find((candidate) => candidate.status === 'failed')
  const where = step ? ` at step ${step.index + 1} (${step.type}): ${step.error}` : ''
  return new CliError(`Run ${run.id} failed${where}. Replay it: zap runs replay ${run.id}`)
}
