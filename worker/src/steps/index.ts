import type { RecordedStep } from '@zap/sql/execution'
import type { Step } from '@zap/lib/steps'
import { runDelayStep } from './delay.ts'
import { runEmailStep, type Mailer } from './email.ts'
import { runFilterStep } from './filter.ts'
import { runHttpStep } from './http.ts'
import type { Resolve, TargetScope } from '../targets.ts'
import { failRun, stopRun, succeeded, type StepOutcome } from './result.ts'
import type { Span } from '@zap/lib/trace'

export type StepRuntime = {
  /** The step's span, parent of what it calls; null while tracing is off. */
  span: Span | null
  idempotencyKey: string
  recorded: RecordedStep | undefined
  targetScope: TargetScope
  resolve: Resolve
  timeoutMs: number
  maxResponseBytes: number
  mailer: Mailer | null
}

/** Executes one rendered, validated step. */
export async function runStepType(step: Step, runtime: StepRuntime): Promise<StepOutcome> {
  switch (step.type) {
    case 'http':
      return runHttpStep(step.config, runtime)
    case 'filter':
      return runFilterStep(step.config)
    case 'delay':
      return runDelayStep(step.config, runtime.recorded)
    case 'transform':
      return succeeded(step.config.output)
    case 'email':
      return runEmailStep(step.config, runtime.mailer, runtime.idempotencyKey)
    case 'log':
      return succeeded({ message: step.config.message })
    case 'stop': {
      const { status, reason } = step.config
      return status === 'failed' ? failRun({ status, reason }, reason) : stopRun({ status, reason }, reason)
    }
  }
}
