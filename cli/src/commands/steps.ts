import { Command } from 'commander'
import { connectApi, resolveApiUrl } from '../api.ts'
import { zapCommand } from '../env.ts'
import { reportErrors } from '../errors.ts'
import { printJson, printTable, withSpinner } from '../output.ts'
import type { CatalogStep, JsonSchema } from '../types.ts'

export const stepsCommand = () =>
  new Command('steps')
    .description('List the step types a zap can use, with their config fields (required ones marked *)')
    .option('--json', 'print the catalog, with each config as JSON schema')
    .addHelpText('after', `\nExamples:\n  $ ${zapCommand} steps\n  $ ${zapCommand} steps --json | jq ".[] | select(.type == \\"http\\").config"`)
    .action(
      reportErrors(async (flags: { json?: boolean }, command: Command) => {
        const api = connectApi({ api: resolveApiUrl(command) })
        const { steps } = await withSpinner('Loading step types', api.get<{ steps: CatalogStep[] }>('/catalog'))
        if (flags.json) return printJson(steps)
        printTable(['TYPE', 'CONFIG', 'DESCRIPTION'], steps.map((step) => [step.type, configFields(step.config), step.description]))
      }),
    )

// A config that takes one of several shapes (a delay's seconds or until) lists each, separated by |.
function configFields(config: JsonSchema): string {
  if (config.anyOf) return config.anyOf.map(configFields).join(' | ')
  return Object.keys(config.properties ?? {})
    .map((key) => (config.required?.includes(key) ? `${key}*` : key))
    .join(', ')
}
