import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { zapCommand } from '../env.ts'
import { CliError, reportErrors } from '../errors.ts'
import { checkId } from '../ids.ts'
import { printJson, withSpinner } from '../output.ts'
import { collect, parseRetentionDays, parseStepFlag, parseVerifyFlag, readZapFile, scheduleFromFlags, scheduleOptions, type ScheduleFlags } from '../zap-input.ts'
import { askZap } from '../zap-prompts.ts'
import type { Zap } from '../types.ts'

type Flags = ScheduleFlags & { name?: string; step?: string[]; file?: string; secret?: string | false; verify?: string; retentionDays?: number; json?: boolean }

export const zapsEditCommand = () =>
  scheduleOptions(new Command('edit'), true)
    .description('Change a zap; new steps make a new version (runs in flight keep theirs). Asks in a terminal without flags')
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .option('--name <name>', 'rename it, e.g. --name "Signups to Slack"')
    .option('--step <type:json>', 'replace the steps with these, in order (repeatable), e.g. --step \'log:{"message":"hi"}\'', collect)
    .option('-f, --file <path>', 'apply the fields in a JSON file (name, steps, enabled, secret, verify, concurrency, debounce, retentionDays), e.g. --file zap.json')
    .option('--secret <secret>', 'require Standard Webhooks signatures with this secret (base64, optionally after whsec_)')
    .option('--verify <json>', 'verify webhooks another way, e.g. --verify \'{"scheme":"stripe","secrets":["whsec_..."]}\' (two secrets while rotating)')
    .option('--no-secret', 'stop verifying webhooks (any scheme)')
    .option('--retention-days <days>', 'keep its finished runs this many days, e.g. --retention-days 7 (the server default again: "retentionDays": null in --file)', parseRetentionDays)
    .option('--json', 'print the changed zap as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --name Renamed
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --step 'http:{"url":"https://example.com/in"}'
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --schedule '*/15 * * * *' --catch-up latest
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --no-schedule
  $ ${zapCommand} zaps edit 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --file zap.json`,
    )
    .action(
      reportErrors(async (zapId: string, flags: Flags, command: Command) => {
        const path = `/zaps/${checkId(zapId, 'zap')}`
        const api = apiFor(command)
        const scheduleFlags = flags.schedule !== undefined || flags.timezone !== undefined || flags.catchUp !== undefined
        const fromFlags = flags.name !== undefined || flags.step || flags.file || flags.secret !== undefined || flags.verify !== undefined || flags.retentionDays !== undefined || scheduleFlags
        // --timezone or --catch-up alone change the schedule the zap has.
        const current = scheduleFlags && typeof flags.schedule !== 'string' ? (await api.get<{ zap: Zap }>(path)).zap.schedule : null
        const changes = fromFlags
          ? await changesFromFlags(flags, current)
          : await askZap(api, 'pass --name, --step or --file to say what to change.', (await api.get<{ zap: Zap }>(path)).zap)
        const { zap } = await withSpinner('Saving the zap', api.patch<{ zap: Zap }>(path, changes))
        if (flags.json) return printJson(zap)
        console.log(`Saved zap "${zap.name}" (${zap.id}), now v${zap.version}.`)
      }),
    )

async function changesFromFlags(flags: Flags, currentSchedule: Zap['schedule']) {
  const file = flags.file ? await readZapFile(flags.file) : {}
  const schedule = scheduleFromFlags(flags, currentSchedule)
  const changes = {
    ...file,
    ...(flags.name !== undefined ? { name: flags.name } : {}),
    ...(flags.step ? { steps: flags.step.map(parseStepFlag) } : {}),
    ...(flags.secret !== undefined ? { secret: flags.secret === false ? null : flags.secret } : {}),
    ...(flags.retentionDays !== undefined ? { retentionDays: flags.retentionDays } : {}),
    ...(flags.verify !== undefined ? { verify: parseVerifyFlag(flags.verify) } : {}),
    ...(schedule !== undefined ? { schedule } : {}),
  }
  if (Object.keys(changes).length === 0) throw new CliError(`${flags.file} changes nothing: give it "name", "steps", "enabled", "secret", "verify", "concurrency", "debounce" or "retentionDays".`)
  return changes
}
