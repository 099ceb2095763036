import { intro, note, select, text } from '@clack/prompts'
import type { Api } from './api.ts'
import { choseCancel } from './errors.ts'
import { answer, requireTerminal } from './prompts.ts'
import { askSteps } from './step-prompts.ts'
import type { StepInput, Zap } from './types.ts'

/** Asks for a new zap, or for changes to `current`, then shows it for review before going on. */
export async function askZap(api: Api, flagsHint: string, current?: Zap) {
  requireTerminal(flagsHint)
  intro(current ? `Edit zap ${current.name}` : 'Create a zap')
  const name = await answer(
    text({ message: 'Name', initialValue: current?.name, validate: (value) => (value?.trim() ? undefined : 'Enter a name') }),
  )
  const steps = current && !(await wantsNewSteps(current)) ? undefined : await askSteps(api)
  note(describeSteps(steps ?? current!.steps), `${name}`)
  const decision = await answer(
    select({ message: current ? 'Save these changes?' : 'Create this zap?', options: [{ value: 'go', label: current ? 'Save' : 'Create' }, { value: 'cancel', label: 'Cancel' }] }),
  )
  if (decision === 'cancel') throw choseCancel()
  return { name: name.trim(), steps }
}

async function wantsNewSteps(current: Zap) {
  const options = [{ value: false, label: `Keep the ${current.steps.length} steps` }, { value: true, label: 'Replace the steps' }]
  return answer(select({ message: 'Steps', options }))
}

export const describeSteps = (steps: StepInput[]) =>
  steps.map((step, index) => `${index + 1}. ${step.type} ${JSON.stringify(step.config)}`).join('\n')
