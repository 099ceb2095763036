import { Webhook } from 'standardwebhooks'
import type { Sql } from '@zap/sql/db'
import { claimDueAlerts, type DueAlert } from '@zap/sql/alerts'
import { newId } from '@zap/lib/ids'
import type { Logger } from '@zap/lib/log'
import { alertsSent } from '@zap/lib/metrics'
import { repeatUntilStopped } from '@zap/lib/repeat'
import { BlockedTargetError, fetchFrom, resolveTarget, type Resolve, type TargetScope } from './targets.ts'
import type { Mailer } from './steps/email.ts'

export type AlertOptions = { sql: Sql; mailer: Mailer | null; targetScope: TargetScope; resolve: Resolve; timeoutMs: number; log: Logger }

// A delivery is tried this many times, waiting 1, 2, 4 and 8 seconds between tries.
const maxTries = 5
const retryBaseMs = 1_000
const pollMs = 1_000
const claimBatch = 20

/**
 * Sends the failure alerts that fall due (claimed, so each goes out from one worker only): a webhook
 * signed with Standard Webhooks using the user's alert secret, through the same address checks as
 * `http` steps, and an email through SMTP_URL; each retried a few times.
 */
export function startAlerts({ sql, mailer, targetScope, resolve, timeoutMs, log }: AlertOptions) {
  let stopping = false
  const inFlight = new Set<Promise<void>>()

  async function withRetries(channel: 'webhook' | 'email', alertLog: Logger, send: () => Promise<'sent' | 'retry' | 'give_up'>) {
    for (let attempt = 1; ; attempt++) {
      let result: 'sent' | 'retry' | 'give_up'
      try {
        result = await send()
      } catch (error) {
        alertLog.warn({ err: error, channel, attempt }, 'sending the failure alert failed')
        result = error instanceof BlockedTargetError ? 'give_up' : 'retry'
      }
      if (result === 'sent' || result === 'give_up' || attempt === maxTries || stopping) {
        alertsSent.inc({ channel, outcome: result === 'sent' ? 'delivered' : 'failed' })
        if (result === 'sent') alertLog.info({ channel, attempts: attempt }, 'failure alert delivered')
        else alertLog.warn({ channel, attempts: attempt }, 'failure alert not delivered')
        return
      }
      await Bun.sleep(retryBaseMs * 2 ** (attempt - 1))
    }
  }

  async function postWebhook(url: string, secret: string, id: string, body: string) {
    const target = new URL(url)
    const addresses = await resolveTarget(target, targetScope, resolve)
    const timestamp = new Date()
    const headers = new Headers({
      'content-type': 'application/json',
      'user-agent': 'zap-alerts',
      'webhook-id': id,
      'webhook-timestamp': String(Math.floor(timestamp.getTime() / 1000)),
      'webhook-signature': new Webhook(secret).sign(id, timestamp, body),
    })
    const response = await fetchFrom(target, addresses, { method: 'POST', headers, body, redirect: 'manual', signal: AbortSignal.timeout(timeoutMs) })
    await response.body?.cancel()
    if (response.ok) return 'sent'
    return response.status === 408 || response.status === 429 || response.status >= 500 ? 'retry' : 'give_up'
  }

  async function deliver(alert: DueAlert) {
    const id = `alert_${newId()}`
    const alertLog = log.child({ zapId: alert.zapId, runId: alert.failure.runId, alertId: id })
    const { webhook, email } = alert.onFailure ?? {}
    const sends: Promise<void>[] = []
    if (webhook && alert.secret) {
      const body = JSON.stringify(alertPayload(alert))
      sends.push(withRetries('webhook', alertLog, () => postWebhook(webhook, alert.secret!, id, body)))
    }
    if (email && mailer) {
      const message = { to: [email], ...alertEmail(alert) }
      sends.push(withRetries('email', alertLog, async () => {
        const outcome = await mailer.send(message, id)
        if (outcome.kind !== 'failed') return 'sent'
        alertLog.warn({ channel: 'email', error: outcome.error }, 'sending the failure alert failed')
        return outcome.retryable ? 'retry' : 'give_up'
      }))
    }
    await Promise.all(sends)
  }

  const claiming = repeatUntilStopped(async () => {
    try {
      for (const alert of await claimDueAlerts(sql, claimBatch)) {
        const delivery = deliver(alert).finally(() => inFlight.delete(delivery))
        inFlight.add(delivery)
      }
    } catch (error) {
      log.warn({ err: error }, 'claiming failure alerts failed; trying again')
    }
  }, pollMs)
  return {
    async stop() {
      stopping = true
      await claiming.stop()
      await Promise.all(inFlight)
    },
  }
}

/** The alert webhook's body: `{ type, timestamp, data }`, as Standard Webhooks suggests. */
export function alertPayload(alert: DueAlert) {
  const { runId, stepIndex, stepType, error, failedAt } = alert.failure
  return {
    type: 'run.failed',
    timestamp: new Date().toISOString(),
    data: {
      zap: { id: alert.zapId, name: alert.zapName },
      run: { id: runId, failedAt },
      failedStep: { index: stepIndex, type: stepType },
      error,
      failures: alert.failures,
      replay: replayCommand(runId),
    },
  }
}

function alertEmail(alert: DueAlert) {
  const { runId, stepIndex, stepType, error } = alert.failure
  const folded = alert.failures > 1 ? `${alert.failures} runs failed since the last alert; the latest:\n\n` : ''
  return {
    subject: alert.failures > 1 ? `zap: ${alert.failures} runs of "${alert.zapName}" failed` : `zap: a run of "${alert.zapName}" failed`,
    text: `${folded}Zap:    ${alert.zapName} (${alert.zapId})
Run:    ${runId}
Step:   ${stepIndex + 1} (${stepType})
Error:  ${error ?? 'unknown'}

Replay it from the failed step:
  ${replayCommand(runId)}
`,
  }
}

const replayCommand = (runId: string) => `zap runs replay ${runId}`
