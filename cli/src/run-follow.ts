import type { Api } from './api.ts'
import { CliError } from './errors.ts'
import { printJson } from './output.ts'
import { stepLine } from './run-view.ts'
import type { Run } from './types.ts'

const pollMs = 250

/** Follows a run to its end, then prints it (as JSON, or a summary line); a failed run exits 1. */
export async function waitForRun(api: Api, runId: string, json: boolean, fromStep = 0) {
  const run = await followRun(api, runId, fromStep, !json)
  if (json) printJson(run)
  else console.log(`Run ${run.status}. Details: zap runs show ${run.id}`)
  if (run.status === 'failed') throw runFailed(run)
}

// Prints a step each time its status or attempt count changes, from `fromStep` on.
async function followRun(api: Api, runId: string, fromStep: number, print: boolean): Promise<Run> {
  const printed = new Set<string>()
  for (;;) {
    const { run } = await api.get<{ run: Run }>(`/runs/${runId}`)
    for (const step of run.steps.slice(fromStep)) {
      const key = `${step.index}:${step.status}:${step.attempts}`
      if (step.status === 'pending' || printed.has(key)) continue
      printed.add(key)
      if (print) console.log(stepLine(step))
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
