import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { recordStepAttempt, type StepContext, type StepRecord } from '@zap/sql/execution'
import { admitRun, clearWait, dropLease, leaseStep, pauseTarget, wakeFairShareRuns, wakeParkedRuns, type Deferral } from '@zap/sql/flow'
import { replayRun } from '@zap/sql/replays'
import { noteRunFailure } from '@zap/sql/alerts'
import type { StepMessage } from '@zap/lib/messages'
import type { Logger } from '@zap/lib/log'
import { isDatabaseDown } from '@zap/lib/database'
import { step as stepSchema, type Step } from '@zap/lib/steps'
import { render, RenderedTooLargeError, TemplateError } from './template.ts'
import { jsonPreview, jsonSize, truncateText } from './size.ts'
import { nextRetryDelay } from './backoff.ts'
import type { Mailer } from './steps/email.ts'
import { runStepType } from './steps/index.ts'
import type { Resolve, TargetScope } from './targets.ts'
import { permanentFailure, type StepOutcome } from './steps/result.ts'
import { concurrencySlotOf, holdForTarget, pauseOf } from './flow.ts'
import type { Admission, FairShare } from './fair-share.ts'
import type { StepStore, StepStoreOptions } from './step-store.ts'
import { retriesScheduled, runsFinished, stepExecutions, stepSeconds } from '@zap/lib/metrics'
import { describeSpan, inSpan, SpanKind, type Span } from '@zap/lib/trace'

export type ExecuteOptions = {
  maxAttempts: number
  retryBaseMs: number
  retryMaxMs: number
  stepTimeoutMs: number
  maxResponseBytes: number
  maxRenderedBytes: number
  maxOutputBytes: number
  maxRunOutputBytes: number
  targetScope: TargetScope
  resolve: Resolve
  autoReplayScheduleMs: number[]
  mailer: Mailer | null
  fairShare: FairShare | null
  /** A step still running after this long gets a lease and lets its Kafka batch move on. */
  detachAfterMs: number
  /** Failures of one zap within this long after its last alert are folded into its next one. */
  alertThrottleMs: number
  /** How the worker gathers its context loads and records across concurrent steps. */
  batch: StepStoreOptions
}

export type Execution = 'executed' | 'skipped' | 'deferred'

// What a step stores for display is bounded; a step's output, which later steps read, fails the step past its cap.
const maxStoredInputBytes = 64 * 1024
const maxErrorChars = 2_000
const previewChars = 1_000

// A target's Retry-After is honoured even past RETRY_MAX_MS, within reason.
const maxRetryAfterMs = 60 * 60_000

// A lease outlives the attempt's own timeout by this much before another worker takes the step over.
const leaseGraceMs = 5_000

// A step that found the worker full comes back after 1 to 2 seconds. One over its owner's or its
// zap's share waits until a step of that owner frees a slot, or else looks again after a while that
// doubles with each look, up to two minutes: a backlog of thousands of steps costs a few messages a second.
const fairShareRetryMs = 1_000
const overShareRecheckMs = 2_000
const maxOverShareRecheckMs = 120_000

/**
 * Runs one step of a run and records the result with what follows it; a redelivered step is skipped.
 * A step held back by a concurrency limit, a rate limit or a paused target goes back through the
 * outbox for later ('deferred') without calling anything.
 */
export function executeStep(db: Database, message: StepMessage, options: ExecuteOptions, log: Logger, onDetached?: () => void): Promise<Execution> {
  const attributes = { 'zap.run_id': message.runId, 'zap.step.index': message.stepIndex, 'zap.step.attempt': message.attempt }
  return inSpan('step', SpanKind.CONSUMER, message.traceParent, attributes, (span) => execute(db, message, options, log, span, onDetached))
}

/** The pool, the store that batches the hot reads and writes on it, and the relays' wake-up for what they queue in the outbox. */
export type Database = { sql: Sql; store: StepStore; wakeRelays: () => void }

async function execute({ sql, store, wakeRelays }: Database, message: StepMessage, options: ExecuteOptions, log: Logger, span: Span | null, onDetached?: () => void): Promise<Execution> {
  const context = await store.loadContext(message.runId)
  const step = context?.steps[message.stepIndex]
  if (!context || !step || !isDue(context, message)) {
    log.debug('step already done or no longer due; skipped')
    describeSpan(span, { 'zap.step.outcome': 'skipped' })
    return 'skipped'
  }
  span?.updateName(`step ${step.type}`)
  describeSpan(span, { 'zap.step.type': step.type, 'zap.zap_id': context.zapId })
  const slot = concurrencySlotOf(context, message)
  if (slot && !(await admitRun(sql, slot, message))) {
    log.debug({ zapId: context.zapId }, 'waiting for a concurrency slot')
    describeSpan(span, { 'zap.step.outcome': 'deferred' })
    wakeRelays()
    return 'deferred'
  }
  if (context.wait && !slot) await clearWait(sql, message.runId)
  const startedAt = new Date()
  const prepared = prepare(step, context, options)
  const lease: Lease = { id: null }
  const outcome = prepared.step ? await callWithinLimits({ sql, store, wakeRelays }, prepared.step, context, message, options, log, lease, span, onDetached) : prepared.outcome
  if (outcome === 'deferred') {
    describeSpan(span, { 'zap.step.outcome': 'deferred' })
    wakeRelays()
    return 'deferred'
  }
  const retryDelayMs = outcome.kind === 'failed' ? retryDelay(message.attempt, outcome.retryAfterMs, options) : 0
  const pause = prepared.step ? pauseOf(prepared.step, outcome, retryDelayMs) : null
  if (pause) await onceDatabaseTakesIt(() => pauseTarget(sql, context.userId, pause.host, pause.until, pause.reason), log)
  const record = {
    ...describeOutcome(boundOutput(outcome, context, message.stepIndex, options), context, message, options, retryDelayMs),
    runId: message.runId,
    stepIndex: message.stepIndex,
    type: step.type,
    attempt: message.attempt,
    input: prepared.input,
    startedAt,
  }
  const stopped = outcome.kind === 'failed' && outcome.stopReason !== undefined
  const autoReplayMs = record.runStatus === 'failed' && context.autoReplay && !stopped ? options.autoReplayScheduleMs[context.autoReplays] : undefined
  const execution = await onceDatabaseTakesIt(() => recordWithAutoReplay(sql, store, record, autoReplayMs), log)
  const ended = record.runStatus === 'succeeded' || record.runStatus === 'failed'
  if (slot && execution === 'executed' && ended) await wakeParkedRuns(sql, slot)
  // A run's last step queues nothing: no relay needs to look.
  if (execution === 'executed' && (record.next !== null || autoReplayMs !== undefined || (slot && ended))) wakeRelays()
  if (lease.id) await dropLease(sql, await lease.id).catch(() => {})
  const ms = Date.now() - startedAt.getTime()
  const line = { zapId: context.zapId, type: step.type, status: record.status, runStatus: record.runStatus, ms, error: record.error ?? undefined }
  describeSpan(span, { 'zap.step.outcome': execution === 'executed' ? record.status : 'skipped' }, execution === 'executed' && (record.status === 'failed' || record.status === 'retrying'))
  if (execution === 'executed') {
    log.info(line, `step ${record.status}`)
    const finallyFailed = record.runStatus === 'failed' && autoReplayMs === undefined
    countExecution(step.type, record.status, ms, ended && autoReplayMs === undefined ? record.runStatus : null)
    if (finallyFailed) await noteRunFailure(sql, { runId: message.runId, stepIndex: message.stepIndex, stepType: step.type, error: record.error }, options.alertThrottleMs)
  } else log.debug(line, 'step recorded by an earlier delivery; result dropped')
  return execution
}

type Lease = { id: Promise<string> | null }

function countExecution(type: string, status: StepRecord['status'], ms: number, runEnded: string | null) {
  stepExecutions.inc({ type, outcome: status })
  stepSeconds.observe({ type }, ms / 1000)
  if (status === 'retrying') retriesScheduled.inc()
  if (runEnded) runsFinished.inc({ status: runEnded })
}

/**
 * Calls the step once it has a fair share of this worker's slots and its target takes it; else
 * sends it back through the outbox. A call still running after `detachAfterMs` takes a lease.
 */
async function callWithinLimits(
  { sql, store, wakeRelays }: Database,
  step: Step,
  context: StepContext,
  message: StepMessage,
  options: ExecuteOptions,
  log: Logger,
  lease: Lease,
  span: Span | null,
  onDetached?: () => void,
): Promise<StepOutcome | 'deferred'> {
  const defer = async (deferral: Deferral) => {
    await store.defer(message, deferral)
    log.debug({ zapId: context.zapId, until: deferral.until }, deferral.reason)
    return 'deferred' as const
  }
  const admission = options.fairShare ? await options.fairShare.enter(context.zapId, context.userId) : null
  if (admission && admission.kind !== 'admitted') return defer(fairShareDeferral(admission, context, options.fairShare!))
  const release = () => {
    admission?.release()
    if (options.fairShare) wakeParked(sql, options.fairShare, context.userId, wakeRelays)
  }
  let detach: Timer | undefined
  try {
    // Asked last, right before the call, so a rate limit counts the request as it leaves.
    const hold = await holdForTarget(sql, step, context)
    if (hold) return defer(hold)
    if (onDetached) {
      detach = setTimeout(() => {
        lease.id = leaseStep(sql, message, new Date(Date.now() + options.stepTimeoutMs + leaseGraceMs))
        lease.id.then(onDetached, () => {})
      }, options.detachAfterMs)
    }
    return await attempt(step, context, message, options, span)
  } finally {
    clearTimeout(detach)
    release()
  }
}

function fairShareDeferral(admission: Exclude<Admission, { kind: 'admitted' }>, context: StepContext, fairShare: FairShare): Deferral {
  const base = { kind: 'fair_share' as const, zapId: context.zapId, concurrencyKey: context.concurrencyKey }
  if (admission.kind === 'full') {
    return { ...base, reason: 'Every step slot of the worker is taken; waiting for one', until: new Date(Date.now() + fairShareRetryMs * (1 + Math.random())) }
  }
  fairShare.noteParked(context.userId)
  const looks = context.wait?.kind === 'fair_share' ? context.wait.deferrals : 0
  const recheckMs = Math.min(maxOverShareRecheckMs, overShareRecheckMs * 2 ** looks) * (0.5 + Math.random() / 2)
  const reason = `Waiting for a fair share of a worker's slots: this zap may run ${admission.zapShare} steps at once on a worker and its owner ${admission.userShare}, shared with the other accounts running there`
  return { ...base, reason, until: new Date(Date.now() + recheckMs) }
}

// A released slot wakes the owner's steps that wait for a fair share, rather than leaving them to their recheck.
function wakeParked(sql: Sql, fairShare: FairShare, userId: string, wakeRelays: () => void) {
  const count = fairShare.toWake(userId)
  if (count === 0) return
  wakeFairShareRuns(sql, userId, count).then(
    (woken) => {
      if (woken < count) fairShare.forgetParked(userId)
      if (woken > 0) wakeRelays()
    },
    () => {},
  )
}

/**
 * Writes what an attempt did, waiting out a database outage (unreachable, out of disk): the target was
 * called already, and running the step again to record it would call it a second time.
 */
async function onceDatabaseTakesIt<T>(write: () => Promise<T>, log: Logger): Promise<T> {
  for (let failures = 0; ; failures++) {
    try {
      return await write()
    } catch (error) {
      if (!isDatabaseDown(error)) throw error
      if (failures === 0) log.warn({ err: error }, 'the database cannot take the result of this attempt; writing it once it can')
      await Bun.sleep(Math.min(5_000, 200 * 2 ** failures))
    }
  }
}

async function recordWithAutoReplay(sql: Sql, store: StepStore, record: StepRecord, autoReplayMs: number | undefined): Promise<Execution> {
  if (autoReplayMs === undefined) return (await store.record(record)) ? 'executed' : 'skipped'
  return sql.begin(async (tx) => {
    if (!(await recordStepAttempt(tx, record))) return 'skipped' as const
    await replayRun(tx, { runId: record.runId, from: 'failed', version: 'pinned', cause: 'auto', delayMs: autoReplayMs })
    return 'executed' as const
  })
}

function isDue(context: StepContext, message: StepMessage) {
  if ((context.status !== 'queued' && context.status !== 'running') || context.replay !== message.replay) return false
  const recorded = context.recorded.find((step) => step.index === message.stepIndex)
  return !recorded || ((recorded.status === 'retrying' || recorded.status === 'waiting') && recorded.attempts < message.attempt)
}

function describeOutcome(outcome: StepOutcome, context: StepContext, message: StepMessage, options: ExecuteOptions, retryDelayMs: number) {
  const last = message.stepIndex === context.steps.length - 1
  const again = (availableAt: Date) => ({ stepIndex: message.stepIndex, attempt: message.attempt + 1, availableAt, replay: message.replay })
  switch (outcome.kind) {
    case 'succeeded': {
      const ends = last || outcome.stopReason !== undefined
      return {
        status: 'succeeded',
        output: outcome.output,
        error: null,
        next: ends ? null : { stepIndex: message.stepIndex + 1, attempt: 1, availableAt: new Date(), replay: message.replay },
        runStatus: ends ? 'succeeded' : 'running',
        skipRemaining: skipAfter(outcome.stopReason, context, last),
      } satisfies Partial<StepRecord>
    }
    case 'waiting':
      return { status: 'waiting', output: outcome.output, error: null, next: again(outcome.until), runStatus: 'running' } satisfies Partial<StepRecord>
    case 'failed': {
      const retry = outcome.retryable && message.attempt < options.maxAttempts
      const error = outcome.retryable && !retry ? `${outcome.error} (gave up after ${message.attempt} attempts)` : outcome.error
      return {
        status: retry ? 'retrying' : 'failed',
        output: outcome.output,
        error: truncateText(error, maxErrorChars),
        next: retry ? again(new Date(Date.now() + retryDelayMs)) : null,
        runStatus: retry ? 'running' : 'failed',
        skipRemaining: skipAfter(outcome.stopReason, context, last),
      } satisfies Partial<StepRecord>
    }
  }
}

// A step that ends the run on purpose marks the steps after it skipped, with its reason.
const skipAfter = (stopReason: string | undefined, context: StepContext, last: boolean) =>
  stopReason !== undefined && !last ? { through: context.steps.length - 1, reason: truncateText(stopReason, maxErrorChars) } : undefined

/** The step rendered and validated, or the outcome that says why it cannot run. */
function prepare(step: Step, context: StepContext, options: ExecuteOptions): { input: unknown; step: Step; outcome?: never } | { input: unknown; step?: never; outcome: StepOutcome } {
  const templateContext = { trigger: context.trigger, steps: recordedOutputs(context) }
  let rendered
  try {
    rendered = render(step.config, templateContext, options.maxRenderedBytes)
  } catch (error) {
    if (error instanceof TemplateError) return { input: { config: step.config }, outcome: permanentFailure(error.message) }
    if (error instanceof RenderedTooLargeError) return { input: { preview: jsonPreview(error.partial, previewChars), truncated: true }, outcome: permanentFailure(error.message) }
    throw error
  }
  const input = storedInput(rendered.value, rendered.missing)
  const parsed = v.safeParse(stepSchema, { type: step.type, config: rendered.value })
  if (!parsed.success) {
    const issue = parsed.issues[0]
    return { input, outcome: permanentFailure(`The rendered config is invalid: ${v.getDotPath(issue) ?? 'config'}: ${issue.message}`) }
  }
  return { input, step: parsed.output }
}

// Earlier outputs by index and, for a step with an id, by its id too.
function recordedOutputs(context: StepContext) {
  const outputs: Record<string, { output: unknown }> = {}
  for (const recorded of context.recorded) {
    const entry = { output: recorded.output }
    outputs[recorded.index] = entry
    const id = context.steps[recorded.index]?.id
    if (id !== undefined) outputs[id] = entry
  }
  return outputs
}

function attempt(step: Step, context: StepContext, message: StepMessage, options: ExecuteOptions, span: Span | null) {
  return runStepType(step, {
    span,
    idempotencyKey: `${message.runId}:${message.stepIndex}`,
    recorded: context.recorded.find((recorded) => recorded.index === message.stepIndex),
    targetScope: options.targetScope,
    resolve: options.resolve,
    timeoutMs: options.stepTimeoutMs,
    maxResponseBytes: options.maxResponseBytes,
    mailer: options.mailer,
  })
}

// The rendered config is kept for display only while it is small; past that, its start is.
function storedInput(config: unknown, missing: string[]) {
  const shown = jsonSize(config, maxStoredInputBytes) <= maxStoredInputBytes ? { config } : { preview: jsonPreview(config, previewChars), truncated: true }
  return missing.length ? { ...shown, missing } : shown
}

// Later steps load every earlier output, so a run's outputs together are capped as well as each one.
function boundOutput(outcome: StepOutcome, context: StepContext, stepIndex: number, options: ExecuteOptions): StepOutcome {
  if (outcome.output === undefined) return outcome
  const size = jsonSize(outcome.output, options.maxOutputBytes)
  const problem =
    size > options.maxOutputBytes
      ? `The step's output is larger than ${options.maxOutputBytes} bytes (STEP_MAX_OUTPUT_BYTES); only its start is kept`
      : earlierOutputsSize(context, stepIndex, options.maxRunOutputBytes - size) > options.maxRunOutputBytes - size
        ? `The run's step outputs together would pass ${options.maxRunOutputBytes} bytes (RUN_MAX_OUTPUT_BYTES); only this output's start is kept`
        : undefined
  if (!problem) return outcome
  const output = { preview: jsonPreview(outcome.output, previewChars), truncated: true }
  if (outcome.kind === 'failed') return { ...outcome, output }
  return permanentFailure(problem, output)
}

function earlierOutputsSize(context: StepContext, stepIndex: number, limit: number) {
  let total = 0
  for (const recorded of context.recorded) {
    if (recorded.index !== stepIndex && total <= limit) total += jsonSize(recorded.output ?? null, limit - total)
  }
  return total
}

function retryDelay(attempt: number, retryAfterMs: number | undefined, options: ExecuteOptions) {
  return retryAfterMs !== undefined ? Math.min(retryAfterMs, maxRetryAfterMs) : nextRetryDelay(attempt, options.retryBaseMs, options.retryMaxMs)
}
