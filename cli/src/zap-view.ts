import { zapCommand } from './env.ts'
import cronstrue from 'cronstrue'
import { ago, inert, inertJson, localTime, paint, paintStatus, printFields, printTable } from './output.ts'
import type { Zap } from './types.ts'

export const zapState = (zap: Zap) => paintStatus(zap.enabled ? 'enabled' : 'disabled')

export function printZapTable(zaps: Zap[]) {
  printTable(
    ['ID', 'NAME', 'STATE', 'VERSION', 'STEPS', 'SCHEDULE', 'CREATED'],
    zaps.map((zap) => [zap.id, inert(zap.name), zapState(zap), `v${zap.version}`, zap.steps.map((step) => step.type).join(' > '), zap.schedule?.cron ?? '-', ago(zap.createdAt)]),
  )
}

export function printZap(zap: Zap) {
  printFields([
    ['Id', zap.id],
    ['Name', paint.bold(inert(zap.name))],
    ['State', zapState(zap)],
    ['Version', `v${zap.version}`],
    ['Webhook', paint.cyan(zap.webhookUrl)],
    ['Verified', zap.verify ? verifyNote(zap.id, zap.verify) : 'no, any request starts a run'],
    ...(zap.schedule ? scheduleFields(zap.schedule, zap.nextRuns) : []),
    ...(zap.concurrency ? [['Concurrency', `at most ${zap.concurrency.limit} at once${zap.concurrency.key ? ` per ${zap.concurrency.key}` : ''}, in arrival order`] as [string, string]] : []),
    ...(zap.debounce ? [['Debounce', debounceNote(zap.debounce)] as [string, string]] : []),
    ...(zap.onFailure ? [['On failure', [zap.onFailure.webhook, zap.onFailure.email].filter(Boolean).join(' and ')] as [string, string]] : []),
    ['Retention', zap.retentionDays ? `finished runs kept ${zap.retentionDays} days` : 'the server default'],
    ['Created', `${zap.createdAt} (${ago(zap.createdAt)})`],
    ['Updated', `${zap.updatedAt} (${ago(zap.updatedAt)})`],
  ])
  console.log(`\n${paint.bold('Steps')}`)
  zap.steps.forEach((step, index) => console.log(`  ${index + 1}. ${paint.cyan(step.type)}${step.id ? ` (${step.id})` : ''} ${inertJson(step.config)}`))
}

function scheduleFields(schedule: NonNullable<Zap['schedule']>, nextRuns: string[]): [string, string][] {
  const words = describeCron(schedule.cron)
  const catchUp = schedule.catchUp === 'latest' ? '; after downtime, one run for the latest missed tick' : '; ticks missed in downtime are skipped'
  return [
    ['Schedule', `${words ? `${words} ` : ''}(${schedule.cron}, ${schedule.timezone})${catchUp}`],
    ['Next runs', nextRuns.length ? nextRuns.map(localTime).join('; ') : 'none while the zap is disabled'],
  ]
}

// cronstrue words most expressions; one it cannot is shown as written.
function describeCron(cron: string) {
  try {
    return cronstrue.toString(cron, { use24HourTimeFormat: true })
  } catch {
    return null
  }
}

function verifyNote(id: string, verify: NonNullable<Zap['verify']>) {
  const secrets = verify.secretCount > 0 ? `, ${verify.secretCount} secret${verify.secretCount === 1 ? '' : 's'}` : ''
  const token = verify.hasVerifyToken ? ', answers GET subscription checks' : ''
  return `${verify.scheme}${secrets}${token}; refused ones: ${zapCommand} zaps rejections ${id}`
}

const debounceNote = (debounce: NonNullable<Zap['debounce']>) =>
  `${debounce.waitSeconds} s after the last webhook${debounce.maxWaitSeconds ? `, at most ${debounce.maxWaitSeconds} s` : ''}${debounce.key ? `, per ${debounce.key}` : ''}`
