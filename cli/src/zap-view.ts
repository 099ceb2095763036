import { ago, paint, paintStatus, printFields, printTable } from './output.ts'
import type { Zap } from './types.ts'

export const zapState = (zap: Zap) => paintStatus(zap.enabled ? 'enabled' : 'disabled')

export function printZapTable(zaps: Zap[]) {
  printTable(
    ['ID', 'NAME', 'STATE', 'VERSION', 'STEPS', 'CREATED'],
    zaps.map((zap) => [zap.id, zap.name, zapState(zap), `v${zap.version}`, zap.steps.map((step) => step.type).join(' > '), ago(zap.createdAt)]),
  )
}

export function printZap(zap: Zap) {
  printFields([
    ['Id', zap.id],
    ['Name', paint.bold(zap.name)],
    ['State', zapState(zap)],
    ['Version', `v${zap.version}`],
    ['Webhook', paint.cyan(zap.webhookUrl)],
    ['Signed', zap.hasSecret ? 'yes, webhooks need a valid signature' : 'no'],
    ['Created', `${zap.createdAt} (${ago(zap.createdAt)})`],
    ['Updated', `${zap.updatedAt} (${ago(zap.updatedAt)})`],
  ])
  console.log(`\n${paint.bold('Steps')}`)
  zap.steps.forEach((step, index) => console.log(`  ${index + 1}. ${paint.cyan(step.type)} ${JSON.stringify(step.config)}`))
}
