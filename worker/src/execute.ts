import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { loadStepContext, recordStepAttempt, type StepContext } from '@zap/sql/execution'
import type { StepMessage } from '@zap/lib/messages'
import { step as stepSchema, type Step } from '@zap/lib/steps'
import { render, TemplateError } from './template.ts'
import { nextRetryDelay } from './backoff.ts'
import { runHttpStep } from './steps/http.ts'
import { permanentFailure, succeeded, type StepOutcome } from './steps/result.ts'

export type ExecuteOptions = {
  maxAttempts: number
  retryBaseMs: number
  retryMaxMs: number
  stepTimeoutMs: number
  maxResponseBytes: number
  allowPrivateTargets: boolean
}

export type Execution = 'executed' | 'skipped'

/** Runs one step of a run and records the result with what follows it; a redelivered step is skipped. */
export async function executeStep(sql: Sql, message: StepMessage, options: ExecuteOptions): Promise<Execution> {
  const context = await loadStepContext(sql, message.runId)
  const step = context?.steps[message.stepIndex]
  if (!context || !step || !isDue(context, message)) return 'skipped'
  const startedAt = new Date()
  const { input, outcome } = await attempt(step, context, message, options)
  const last = message.stepIndex === context.steps.length - 1
  const retry = !outcome.ok && outcome.retryable && message.attempt < options.maxAttempts
  const next = outcome.ok
    ? last ? null : { stepIndex: message.stepIndex + 1, attempt: 1, availableAt: new Date() }
    : retry ? { stepIndex: message.stepIndex, attempt: message.attempt + 1, availableAt: retryAt(message.attempt, outcome.retryAfterMs, options) } : null
  const recorded = await recordStepAttempt(sql, {
    runId: message.runId,
    stepIndex: message.stepIndex,
    type: step.type,
    attempt: message.attempt,
    status: outcome.ok ? 'succeeded' : retry ? 'retrying' : 'failed',
    input,
    output: outcome.output,
    error: outcome.ok ? null : retry ? outcome.error : attemptsNote(outcome.error, outcome.retryable, message.attempt),
    startedAt,
    next,
    runStatus: outcome.ok ? (last ? 'succeeded' : 'running') : retry ? 'running' : 'failed',
  })
  return recorded ? 'executed' : 'skipped'
}

function isDue(context: StepContext, message: StepMessage) {
  if (context.status === 'succeeded' || context.status === 'failed') return false
  const recorded = context.recorded.find((step) => step.index === message.stepIndex)
  return !recorded || (recorded.status === 'retrying' && recorded.attempts < message.attempt)
}

async function attempt(step: Step, context: StepContext, message: StepMessage, options: ExecuteOptions) {
  const templateContext = {
    trigger: context.trigger,
    steps: Object.fromEntries(context.recorded.map((recorded) => [recorded.index, { output: recorded.output }])),
  }
  let rendered
  try {
    rendered = render(step.config, templateContext)
  } catch (error) {
    if (error instanceof TemplateError) return { input: { config: step.config }, outcome: permanentFailure(error.message) }
    throw error
  }
  const input = rendered.missing.length ? { config: rendered.value, missing: rendered.missing } : { config: rendered.value }
  const parsed = v.safeParse(stepSchema, { type: step.type, config: rendered.value })
  if (!parsed.success) {
    const issue = parsed.issues[0]
    return { input, outcome: permanentFailure(`The rendered config is invalid: ${v.getDotPath(issue) ?? 'config'}: ${issue.message}`) }
  }
  return { input, outcome: await run(parsed.output, message, options) }
}

function run(step: Step, message: StepMessage, options: ExecuteOptions): Promise<StepOutcome> | StepOutcome {
  switch (step.type) {
    case 'http':
      return runHttpStep(step.config, {
        allowPrivateTargets: options.allowPrivateTargets,
        timeoutMs: options.stepTimeoutMs,
        maxResponseBytes: options.maxResponseBytes,
        idempotencyKey: `${message.runId}:${message.stepIndex}`,
      })
    case 'log':
      return succeeded({ message: step.config.message })
  }
}

// A target's Retry-After is honoured even past RETRY_MAX_MS, within reason.
const maxRetryAfterMs = 60 * 60_000

function retryAt(attempt: number, retryAfterMs: number | undefined, options: ExecuteOptions) {
  const delay = retryAfterMs !== undefined ? Math.min(retryAfterMs, maxRetryAfterMs) : nextRetryDelay(attempt, options.retryBaseMs, options.retryMaxMs)
  return new Date(Date.now() + delay)
}

const attemptsNote = (error: string, retryable: boolean, attempts: number) =>
  retryable ? `${error} (gave up after ${attempts} attempts)` : error
