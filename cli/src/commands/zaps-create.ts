import { Command } from 'commander'
import { outro } from '@clack/prompts'
import { apiFor, type Api } from '../api.ts'
import { zapCommand } from '../env.ts'
import { CliError, reportErrors } from '../errors.ts'
import { localTime, printJson, withSpinner } from '../output.ts'
import { collect, parseRetentionDays, parseStepFlag, parseVerifyFlag, readZapFile, scheduleFromFlags, scheduleOptions, type ScheduleFlags } from '../zap-input.ts'
import { askZap } from '../zap-prompts.ts'
import type { Zap, ZapInput } from '../types.ts'

type Flags = ScheduleFlags & { name?: string; step?: string[]; file?: string; disabled?: boolean; secret?: string; verify?: string; retentionDays?: number; json?: boolean }

export const zapsCreateCommand = () =>
  scheduleOptions(new Command('create'), false)
    .description('Create a zap; in a terminal without flags, asks for it step by step')
    .option('--name <name>', 'the zap\'s name, e.g. --name "New signups"')
    .option('--step <type:json>', 'add a step, in order (repeatable), e.g. --step \'log:{"message":"hi {{trigger.body.name}}"}\'', collect)
    .option('-f, --file <path>', 'read the zap from a JSON file the API takes, e.g. --file zap.json')
    .option('--disabled', 'create it disabled, so it refuses webhooks until enabled')
    .option('--secret <secret>', 'require Standard Webhooks signatures with this secret (base64, optionally after whsec_), e.g. --secret "whsec_$(openssl rand -base64 24)"')
    .option('--verify <json>', 'verify webhooks from GitHub, Stripe, Shopify, Slack, any HMAC, basic or bearer (see docs/receiving-webhooks.md), e.g. --verify \'{"scheme":"github","secrets":["..."]}\'')
    .option('--retention-days <days>', 'keep its finished runs this many days instead of the server default, e.g. --retention-days 7', parseRetentionDays)
    .option('--json', 'print the created zap as JSON')
    .addHelpText(
      'after',
      `
Step types and their config fields: ${zapCommand} steps
Examples:
  $ ${zapCommand} zaps create
  $ ${zapCommand} zaps create --name Greeter --step 'log:{"message":"hi {{trigger.body.name}}"}'
  $ ${zapCommand} zaps create --name Forward --step 'http:{"url":"https://example.com/in","method":"POST"}'
  $ ${zapCommand} zaps create --name Pushes --step 'log:{"message":"{{trigger.body.ref}}"}' --verify '{"scheme":"github","secrets":["<webhook secret>"]}'
  $ ${zapCommand} zaps create --name Daily --step 'log:{"message":"it is {{trigger.body.scheduledAt}}"}' --schedule '0 9 * * 1-5' --timezone Europe/Berlin
  $ ${zapCommand} zaps create --file zap.json     # {"name": "...", "steps": [{"type": "log", "config": {"message": "hi"}}]}`,
    )
    .action(
      reportErrors(async (flags: Flags, command: Command) => {
        const api = apiFor(command)
        const fromFlags = Boolean(flags.file || flags.name || flags.step)
        const input = fromFlags ? await zapFromFlags(flags) : await askNewZap(api)
        const { zap } = await withSpinner('Creating the zap', api.post<{ zap: Zap }>('/zaps', input))
        if (flags.json) return printJson(zap)
        const next = zap.nextRuns[0] ? `\nScheduled: next run ${localTime(zap.nextRuns[0])}` : ''
        const summary = `Created zap "${zap.name}" (${zap.id}).\nWebhook URL: ${zap.webhookUrl}${next}\nTry it: ${zapCommand} trigger ${zap.id} --data '{"name":"Ada"}'${zap.verify ? ' --secret <secret>' : ''} --wait`
        if (fromFlags) console.log(summary)
        else outro(summary)
      }),
    )

async function zapFromFlags(flags: Flags): Promise<ZapInput> {
  const file = flags.file ? await readZapFile(flags.file) : {}
  const name = flags.name ?? file.name
  const steps = flags.step ? flags.step.map(parseStepFlag) : file.steps
  if (!name) throw new CliError('The zap needs a name: pass --name "..." or put "name" in the file.')
  if (!steps?.length) throw new CliError(`The zap needs at least one step: pass --step 'log:{"message":"hi"}' or put "steps" in the file. Step types: ${zapCommand} steps`)
  const schedule = scheduleFromFlags(flags) ?? file.schedule ?? undefined
  return { name, steps, schedule: schedule as ZapInput['schedule'], enabled: flags.disabled ? false : file.enabled, secret: flags.secret ?? file.secret, verify: flags.verify !== undefined ? parseVerifyFlag(flags.verify) : file.verify, concurrency: file.concurrency ?? undefined, debounce: file.debounce ?? undefined, retentionDays: flags.retentionDays ?? file.retentionDays, onFailure: file.onFailure ?? undefined }
}

async function askNewZap(api: Api): Promise<ZapInput> {
  const { name, steps } = await askZap(api, 'pass --name and --step, or --file zap.json.')
  return { name, steps: steps! }
}
