import { Command, Option } from 'commander'
import { apiFor, type Api } from '../api.ts'
import { zapCommand } from '../env.ts'
import { CliError, reportErrors } from '../errors.ts'
import { checkId } from '../ids.ts'
import { printJson } from '../output.ts'
import { confirmOrExit } from '../prompts.ts'
import { waitForRun } from '../run-follow.ts'
import { parseTime } from '../since.ts'
import type { BulkReplay, Replay } from '../types.ts'

type Flags = { from: string; pinned?: boolean; wait?: boolean; verbose?: boolean; failed?: boolean; zap?: string; since?: string; until?: string; yes?: boolean; json?: boolean }

export const runsReplayCommand = () =>
  new Command('replay')
    .description('Replay a failed run, or with --failed every failed run that matches')
    .argument('[runId]', `the failed run to replay, from ${zapCommand} runs list --status failed`)
    .addOption(new Option('--from <where>', 'start again at the failed step or from the trigger').choices(['failed', 'trigger']).default('failed'))
    .option('--pinned', 'use the zap version the run started with instead of the latest')
    .option('-w, --wait', 'follow the replayed run until it ends; exits 1 if it fails again (single run only)')
    .option('-v, --verbose', "with --wait: also print each step's full output")
    .option('--failed', 'replay failed runs in bulk (asks first in a terminal)')
    .option('--zap <zapId>', 'with --failed: only runs of this zap')
    .option('--since <when>', 'with --failed: only runs since, e.g. --since 1h, --since 2d, --since 2025-01-31T12:00:00Z', (value) => parseTime(value))
    .option('--until <when>', 'with --failed: only runs until, e.g. --until 10m', (value) => parseTime(value))
    .option('-y, --yes', 'with --failed: replay without asking; required when not in a terminal')
    .option('--json', 'print {runId, version, fromStep, replay} (with --wait the finished run), or {queued, skipped} for --failed, as JSON')
    .addHelpText(
      'after',
      `
Examples:
  $ ${zapCommand} runs replay 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --wait
  $ ${zapCommand} runs replay 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --from trigger --pinned
  $ ${zapCommand} runs replay --failed --zap 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --since 1h --yes`,
    )
    .action(
      reportErrors(async (runId: string | undefined, flags: Flags, command: Command) => {
        if (runId && flags.failed) throw new CliError('Give either a run id or --failed, not both.')
        if (!runId && !flags.failed) throw new CliError(`Say what to replay: a run id (${zapCommand} runs replay <runId>) or --failed for all failed runs.`)
        const api = apiFor(command)
        if (runId) return replayOne(api, checkId(runId, 'run'), flags)
        await replayFailed(api, flags)
      }),
    )

async function replayOne(api: Api, runId: string, flags: Flags) {
  const { replay } = await api.post<{ replay: Replay }>(`/runs/${runId}/replay`, { from: flags.from, version: flags.pinned ? 'pinned' : 'latest' })
  const what = `run ${runId} from step ${replay.fromStep + 1} on v${replay.version} (replay ${replay.replay})`
  if (!flags.wait) {
    if (flags.json) return printJson(replay)
    return console.log(`Replaying ${what}. Follow it: ${zapCommand} runs show ${runId}`)
  }
  if (!flags.json) console.log(`Replaying ${what}: following...`)
  await waitForRun(api, runId, { json: flags.json ?? false, verbose: flags.verbose ?? false, fromStep: replay.fromStep })
}

async function replayFailed(api: Api, flags: Flags) {
  const zapId = flags.zap ? checkId(flags.zap, 'zap') : undefined
  const scope = [zapId ? `of zap ${zapId}` : 'of all your zaps', flags.since && `since ${flags.since}`, flags.until && `until ${flags.until}`]
  await confirmOrExit(`Replay every failed run ${scope.filter(Boolean).join(' ')}?`, flags.yes)
  const result = await api.post<BulkReplay>('/runs/replay', { zapId, status: 'failed', since: flags.since, until: flags.until })
  if (flags.json) return printJson(result)
  const { queued, skipped } = result
  console.log(queued === 0 ? 'No failed runs were replayed.' : `Queued ${queued} failed run${queued === 1 ? '' : 's'} for replay. Watch them: ${zapCommand} runs watch`)
  for (const { runId, reason } of skipped) console.log(`Skipped ${runId}: ${reason}`)
}
