import * as v from 'valibot'
import { maxDelaySeconds, type delayConfig } from '@zap/lib/steps'
import type { RecordedStep } from '@zap/sql/execution'
import { permanentFailure, succeeded, waitUntil, type StepOutcome } from './result.ts'

type DelayConfig = v.InferOutput<typeof delayConfig>

/** The first delivery schedules the step again for later; the one after that completes it. */
export function runDelayStep(config: DelayConfig, recorded: RecordedStep | undefined, now = Date.now()): StepOutcome {
  if (recorded?.status === 'waiting') return succeeded({ waitedUntil: (recorded.output as { until: string }).until })
  const until = 'seconds' in config ? now + Number(config.seconds) * 1000 : Date.parse(config.until)
  if (!Number.isFinite(until)) return permanentFailure(`The delay ${JSON.stringify(config)} is not a number of seconds or an ISO time`)
  if (until - now > maxDelaySeconds * 1000) return permanentFailure(`The delay ends ${new Date(until).toISOString()}, more than 30 days away`)
  if (until <= now) return succeeded({ waitedUntil: new Date(now).toISOString() })
  return waitUntil(new Date(until))
}
