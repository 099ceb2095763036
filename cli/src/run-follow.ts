import type { Api } from './api.ts'
import { zapCommand } from './env.ts'
import { CliError } from './errors.ts'
import { inert, printJson } from './output.ts'
import { stepLine, stepOutput } from './run-view.ts'
import type { Run } from './types.ts'

const pollMs = 250

export type FollowOptions = { json: boolean; verbose: boolean; fromStep?: number }

/**
 * Follows a run to its end, printing each step's short result (with --verbose its full output), then
 * prints the run (as JSON, or a summary line); a failed run exits 1.
 */
export async function waitForRun(api: Api, runId: string, options: FollowOptions) {
  const run = await followRun(api, runId, options)
  if (options.json) printJson(run)
  else console.log(`Run ${run.status}. Details: ${zapCommand} runs show ${run.id}`)
  if (run.status === 'failed') throw runFailed(run)
}

// Prints a step each time its status or attempt count changes, from `fromStep` on.
async function followRun(api: Api, runId: string, { json, verbose, fromStep = 0 }: FollowOptions): Promise<Run> {
  const printed = new Set<string>()
  for (;;) {
    const { run } = await api.get<{ run: Run }>(`/runs/${runId}`)
    for (const step of run.steps.slice(fromStep)) {
      const key = `${step.index}:${step.status}:${step.attempts}`
      if (step.status === 'pending' || printed.has(key)) continue
      printed.add(key)
      if (json) continue
      console.log(stepLine(step))
      if (verbose && step.output !== null && step.output !== undefined) console.log(stepOutput(step))
    }
    if (run.status === 'succeeded' || run.status === 'failed') return run
    await Bun.sleep(pollMs)
  }
}

function runFailed(run: Run) {
  const step = run.steps.find((candidate) => candidate.status === 'failed')
  const where = step ? ` at step ${step.index + 1} (${step.type}): ${inert(step.error ?? '')}` : ''
  return new CliError(`Run ${run.id} failed${where}. Replay it: ${zapCommand} runs replay ${run.id}`)
}
