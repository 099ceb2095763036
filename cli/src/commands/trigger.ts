import { Command } from 'commander'
import { apiFor } from '../api.ts'
import { env, zapCommand } from '../env.ts'
import { CliError, reportErrors } from '../errors.ts'
import { signRequest } from '../signing.ts'
import { send } from '../http.ts'
import { checkId } from '../ids.ts'
import { printJson, withSpinner } from '../output.ts'
import { waitForRun } from '../run-follow.ts'
import { buildHeaders, readTriggerBody, type BodyFlags } from '../trigger-body.ts'
import { collect } from '../zap-input.ts'
import type { Zap } from '../types.ts'

type Flags = BodyFlags & { header?: string[]; secret?: string; wait?: boolean; verbose?: boolean; json?: boolean }

const hooks = { name: 'the webhook receiver', fix: 'Is the hooks service running? The API gives out webhook URLs based on its PUBLIC_HOOKS_URL.' }

export const triggerCommand = () =>
  new Command('trigger')
    .description("Send a request to a zap's webhook, as an outside service would")
    .argument('<zapId>', `the zap id, from ${zapCommand} zaps list`)
    .argument('[-]', 'read the body from standard input')
    .option('-d, --data <body>', 'the body, JSON or text, e.g. --data \'{"name":"Ada"}\'')
    .option('-f, --file <path>', 'send a file as the body, e.g. --file event.json')
    .option('-H, --header <name:value>', 'add a header (repeatable), e.g. --header "Idempotency-Key: order-42"', collect)
    .option('--secret <secret>', "sign the request in the zap's scheme (github, stripe, standard-webhooks, ...) with this secret; default: $ZAP_SIGNING_SECRET")
    .option('-w, --wait', "follow the run until it ends, showing each step's result as it completes; exits 1 if the run fails")
    .option('-v, --verbose', "with --wait: also print each step's full output")
    .option('--json', 'print {runId, duplicate?} as JSON, or with --wait the finished run')
    .addHelpText(
      'after',
      `
Examples:
  $ ${zapCommand} trigger 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --data '{"name":"Ada"}' --wait
  $ ${zapCommand} trigger 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --data '{"name":"Ada"}' --wait --verbose
  $ ${zapCommand} trigger 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --file event.json --header "Idempotency-Key: evt_1"
  $ curl -s https://example.com/event | ${zapCommand} trigger 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 -
  $ ZAP_SIGNING_SECRET=whsec_... ${zapCommand} trigger 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11 --file stripe-event.json`,
    )
    .action(
      reportErrors(async (zapId: string, source: string | undefined, flags: Flags, command: Command) => {
        const api = apiFor(command)
        const body = await readTriggerBody(flags, source)
        const headers = buildHeaders(flags.header ?? [], body)
        const { zap } = await api.get<{ zap: Zap }>(`/zaps/${checkId(zapId, 'zap')}`)
        if (!zap.enabled) throw new CliError(`Zap ${zap.id} is disabled, so its webhook refuses requests. Enable it: ${zapCommand} zaps enable ${zap.id}`)
        const secret = flags.secret ?? env.signingSecret
        if (zap.verify && secret !== undefined) signRequest(zap.verify, secret, body ?? '', headers)
        else if (flags.secret !== undefined) throw new CliError('This zap does not verify its webhooks: drop --secret.')
        const sent = send<{ runId: string; duplicate?: boolean }>(zap.webhookUrl, { method: 'POST', headers, body }, hooks)
        const accepted = await withSpinner('Sending the webhook', sent).catch((error: unknown) => {
          if (!(error instanceof CliError) || !zap.verify || secret !== undefined) throw error
          throw new CliError(`${error.message}. This zap verifies its webhooks (${zap.verify.scheme}): sign with --secret <secret> or ZAP_SIGNING_SECRET.`)
        })
        if (!flags.wait) {
          if (flags.json) return printJson(accepted)
          return console.log(accepted.duplicate ? `Already received (same idempotency key): run ${accepted.runId}` : `Run ${accepted.runId} queued. Follow it: ${zapCommand} runs show ${accepted.runId}`)
        }
        if (!flags.json) console.log(`Run ${accepted.runId}${accepted.duplicate ? ' (already received)' : ''}: following...`)
        await waitForRun(api, accepted.runId, { json: flags.json ?? false, verbose: flags.verbose ?? false })
      }),
    )
