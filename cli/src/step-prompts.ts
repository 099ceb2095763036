import { select } from '@clack/prompts'
import type { Api } from './api.ts'
import { askConfig } from './config-prompts.ts'
import { withSpinner } from './output.ts'
import { answer } from './prompts.ts'
import type { CatalogStep, StepInput } from './types.ts'

const done = '\0done'

/** Builds a list of steps by picking types from the API's catalog and filling in their config. */
export async function askSteps(api: Api) {
  const { steps: catalog } = await withSpinner('Loading step types', api.get<{ steps: CatalogStep[] }>('/catalog'))
  const steps: StepInput[] = []
  for (;;) {
    const options = catalog.map((step) => ({ value: step.type, label: step.type, hint: step.description }))
    const message = steps.length === 0 ? 'Step 1: what should happen?' : `Step ${steps.length + 1}: add another step?`
    const type = await answer(select({ message, options: steps.length === 0 ? options : [{ value: done, label: 'No, done' }, ...options] }))
    if (type === done) return steps
    steps.push({ type, config: await askConfig(catalog.find((step) => step.type === type)!.config) })
  }
}
