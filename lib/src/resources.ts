import * as v from 'valibot'
import { step, steps } from './steps.ts'
import { isoTime } from './time.ts'
import { concurrency, debounce } from './flow.ts'
import { standardWebhooksSecret, verify, verifyView } from './verify.ts'
import { schedule } from './schedule.ts'

// The API's resources, once: requests are validated with these, responses are declared with them (so
// the OpenAPI document describes them), the SQL layer returns their types and the CLI reads them as `Json<T>`.

/**
 * `waiting`: a flow limit (see `wait`), a delay or a retry's backoff holds the run's next step back until later;
 * `debounced`: absorbed into `debouncedInto`; `cancelled`: its zap was deleted or disabled before it finished,
 * and its remaining steps never ran.
 */
export const runStatus = v.picklist(['queued', 'waiting', 'running', 'succeeded', 'failed', 'debounced', 'cancelled'])
export const runStepStatus = v.picklist(['pending', 'retrying', 'waiting', 'succeeded', 'failed', 'skipped'])
export const runCause = v.picklist(['webhook', 'manual', 'bulk', 'auto', 'schedule'])
export const replayFrom = v.picklist(['failed', 'trigger'])
export const replayVersion = v.picklist(['latest', 'pinned'])
export const stepType = v.picklist(step.options.map((option) => option.entries.type.literal))

export type RunStatus = v.InferOutput<typeof runStatus>
export type RunStepStatus = v.InferOutput<typeof runStepStatus>
export type RunCause = v.InferOutput<typeof runCause>
export type ReplayFrom = v.InferOutput<typeof replayFrom>
export type ReplayVersion = v.InferOutput<typeof replayVersion>

const id = v.pipe(v.string(), v.uuid())
// The server holds Dates; JSON and the OpenAPI document carry them as ISO 8601 strings.
const timestamp = v.date()
const count = v.pipe(v.number(), v.integer(), v.minValue(0))

export const apiError = v.object({
  error: v.object({
    code: v.pipe(v.string(), v.description('Stable, machine-readable: invalid_input, unauthorized, not_found, ...')),
    message: v.pipe(v.string(), v.description('What went wrong and what to do, for people')),
    details: v.optional(v.pipe(v.unknown(), v.description('For invalid_input: [{path, message}] per wrong field'))),
  }),
})

const email = v.pipe(v.string(), v.trim(), v.toLowerCase(), v.email('Expected an email address'), v.maxLength(254))
const password = v.pipe(
  v.string(),
  v.minLength(8, 'Password must be at least 8 characters'),
  v.maxLength(256),
  v.check((text) => text.replace(/\s/g, '').length >= 8, 'Password must have at least 8 characters besides spaces'),
)
const personName = v.pipe(v.string(), v.trim(), v.minLength(1, 'Name is required'), v.maxLength(200))

export const signupBody = v.object({ email, password, name: personName })
// No password longer than signup allows can be right, so one is refused before it costs a hash.
export const loginBody = v.object({ email, password: v.pipe(v.string(), v.maxLength(256)) })

export const user = v.object({ id, email: v.string(), name: v.string(), createdAt: timestamp })
export type User = v.InferOutput<typeof user>

const zapName = v.pipe(v.string(), v.trim(), v.minLength(1, 'Name is required'), v.maxLength(200))
const secret = v.pipe(standardWebhooksSecret, v.description('Shorthand for "verify": {"scheme": "standard-webhooks", "secrets": [secret]}'))

export const webhookRateLimit = v.pipe(
  v.object({
    requests: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(1_000_000)),
    perSeconds: v.pipe(v.number(), v.integer(), v.minValue(1), v.maxValue(86_400)),
  }),
  v.description('At most `requests` webhooks per `perSeconds` seconds, 429 beyond; null: the server default (WEBHOOK_RATE_LIMIT)'),
)
export type WebhookRateLimit = v.InferOutput<typeof webhookRateLimit>

const keepSensitiveHeaders = v.pipe(
  v.boolean(),
  v.description('Store the authorization, cookie and proxy-authorization headers of webhooks with their runs (default false)'),
)

const retentionDays = v.pipe(
  v.number(),
  v.integer(),
  v.minValue(1, 'retentionDays must be at least 1'),
  v.maxValue(3650, 'retentionDays must be at most 3650'),
  v.description('Days this zap\'s finished runs are kept, failed ones included; null: the server default (RUN_RETENTION_DAYS, FAILED_RUN_RETENTION_DAYS)'),
)

export const onFailure = v.pipe(
  v.object({
    webhook: v.optional(v.pipe(v.string(), v.maxLength(2048), v.url('onFailure.webhook must be a URL'), v.regex(/^https?:\/\//i, 'onFailure.webhook must be an http or https URL'))),
    email: v.optional(email),
  }),
  v.check((value) => value.webhook !== undefined || value.email !== undefined, 'onFailure needs a webhook URL, an email address or both'),
  v.description('Where to report a run that finally failed (after its retries and automatic replays): a webhook signed with your alert secret (POST /api/v1/alerts/secret) and/or an email; null: nowhere'),
)
export type OnFailure = v.InferOutput<typeof onFailure>

export const alertSecret = v.object({
  secret: v.pipe(v.string(), v.description('The Standard Webhooks secret (whsec_...) that signs your failure alerts; shown only now')),
})

export const createZapBody = v.object({
  name: zapName,
  steps,
  enabled: v.optional(v.boolean()),
  autoReplay: v.optional(v.boolean()),
  secret: v.optional(secret),
  verify: v.optional(v.nullable(verify)),
  webhookRateLimit: v.optional(v.nullable(webhookRateLimit)),
  keepSensitiveHeaders: v.optional(keepSensitiveHeaders),
  concurrency: v.optional(concurrency),
  debounce: v.optional(debounce),
  retentionDays: v.optional(v.nullable(retentionDays)),
  onFailure: v.optional(v.nullable(onFailure)),
  schedule: v.optional(v.nullable(schedule)),
})
export const updateZapBody = v.object({
  name: v.optional(zapName),
  steps: v.optional(steps),
  enabled: v.optional(v.boolean()),
  autoReplay: v.optional(v.boolean()),
  secret: v.optional(v.nullable(secret)),
  verify: v.optional(v.nullable(verify)),
  webhookRateLimit: v.optional(v.nullable(webhookRateLimit)),
  keepSensitiveHeaders: v.optional(keepSensitiveHeaders),
  concurrency: v.optional(v.nullable(concurrency)),
  debounce: v.optional(v.nullable(debounce)),
  retentionDays: v.optional(v.nullable(retentionDays)),
  onFailure: v.optional(v.nullable(onFailure)),
  schedule: v.optional(v.nullable(schedule)),
})
export type CreateZapInput = v.InferOutput<typeof createZapBody>
export type UpdateZapInput = v.InferOutput<typeof updateZapBody>

/** A step of a zap version as stored; its config is what the catalog describes for its type. */
export const zapStep = v.object({ id: v.optional(v.pipe(v.string(), v.description('The step’s id, which templates read as {{steps.<id>.output}}'))), type: stepType, config: v.record(v.string(), v.unknown()) })
export type ZapStep = v.InferOutput<typeof zapStep>

export const zap = v.object({
  id,
  name: v.string(),
  enabled: v.boolean(),
  autoReplay: v.boolean(),
  concurrency: v.pipe(v.nullable(concurrency), v.description('At most `limit` runs at once (per rendered key), started in arrival order')),
  debounce: v.pipe(v.nullable(debounce), v.description('Webhooks with the same key within waitSeconds become one run with the last payload')),
  version: v.pipe(count, v.description('The current version; a new steps list makes a new one')),
  steps: v.array(zapStep),
  hasSecret: v.pipe(v.boolean(), v.description('Whether webhooks must be verified (verify is set)')),
  verify: v.nullable(verifyView),
  webhookRateLimit: v.nullable(webhookRateLimit),
  keepSensitiveHeaders,
  retentionDays: v.nullable(retentionDays),
  onFailure: v.nullable(onFailure),
  schedule: v.pipe(v.nullable(schedule), v.description('When the zap also runs on its own: a cron expression read in `timezone`')),
  nextRuns: v.pipe(v.array(timestamp), v.description('The next three ticks of the schedule (none without one, or while the zap is disabled)')),
  webhookUrl: v.string(),
  createdAt: timestamp,
  updatedAt: timestamp,
})
export type Zap = v.InferOutput<typeof zap>

export const rejectionKind = v.pipe(
  v.picklist(['signature', 'handshake']),
  v.description('signature: a webhook refused by the zap’s verification; handshake: a GET subscription check with a wrong or missing verify token'),
)

export const webhookRejection = v.object({
  receivedAt: timestamp,
  kind: rejectionKind,
  reason: v.pipe(v.string(), v.description('Why the request was refused, e.g. a stale timestamp or no matching signature')),
  method: v.string(),
  senderIp: v.nullable(v.string()),
  bodyBytes: count,
  bodyPreview: v.pipe(v.string(), v.description('The start of the body, at most 1,000 characters')),
})
export type WebhookRejection = v.InferOutput<typeof webhookRejection>

export const catalogEntry = v.object({
  type: stepType,
  description: v.string(),
  config: v.pipe(v.record(v.string(), v.unknown()), v.description('The JSON Schema of the step’s config')),
})
export type CatalogEntry = v.InferOutput<typeof catalogEntry>

export const verifySchemeEntry = v.object({
  scheme: v.string(),
  description: v.string(),
  setting: v.pipe(v.record(v.string(), v.unknown()), v.description('The JSON Schema of the zap’s `verify` for this scheme')),
})

export const trigger = v.object({
  body: v.pipe(v.unknown(), v.description('JSON bodies parsed, form bodies as an object, anything else as text; null when empty')),
  contentType: v.nullable(v.string()),
  headers: v.record(v.string(), v.string()),
  query: v.record(v.string(), v.string()),
})
export type Trigger = v.InferOutput<typeof trigger>

export const waitKind = v.picklist(['concurrency', 'rate_limit', 'paused', 'fair_share'])

export const runWait = v.object({
  kind: waitKind,
  reason: v.string(),
  since: timestamp,
  until: v.pipe(timestamp, v.description('When the step is looked at again (a finishing run may wake it sooner)')),
})
export type RunWait = v.InferOutput<typeof runWait>

export const runSummary = v.object({
  id,
  zapId: id,
  version: count,
  status: runStatus,
  wait: v.pipe(v.nullable(runWait), v.description('Why a waiting run waits')),
  debouncedInto: v.pipe(v.nullable(id), v.description('For a debounced run: the run that took its place')),
  replay: v.pipe(count, v.description('How many times the run was replayed')),
  createdAt: timestamp,
  finishedAt: v.nullable(timestamp),
})
export type RunSummary = v.InferOutput<typeof runSummary>

export const runStep = v.object({
  index: count,
  type: v.string(),
  status: runStepStatus,
  attempts: count,
  input: v.unknown(),
  output: v.unknown(),
  error: v.nullable(v.string()),
  startedAt: v.nullable(timestamp),
  finishedAt: v.nullable(timestamp),
})
export type RunStep = v.InferOutput<typeof runStep>

/** An earlier execution of a replayed run, as it was when the replay started. */
export const runExecution = v.object({
  replay: count,
  version: count,
  fromStep: count,
  cause: runCause,
  status: runStatus,
  steps: v.array(runStep),
  startedAt: v.nullable(timestamp),
  finishedAt: v.nullable(timestamp),
})
export type RunExecution = v.InferOutput<typeof runExecution>

export const run = v.object({
  ...runSummary.entries,
  replayFrom: v.pipe(count, v.description('The step the current execution started from')),
  replayCause: runCause,
  startedAt: v.nullable(timestamp),
  trigger,
  steps: v.array(runStep),
  history: v.array(runExecution),
})
export type Run = v.InferOutput<typeof run>

export const replayRunBody = v.object({
  from: v.optional(replayFrom, 'failed'),
  version: v.optional(replayVersion, 'latest'),
})


export const replayFailedRunsBody = v.object({
  zapId: v.optional(id),
  status: v.literal('failed', 'Only failed runs can be replayed: status must be "failed"'),
  since: v.optional(isoTime),
  until: v.optional(isoTime),
})

export const replay = v.object({ runId: id, version: count, fromStep: count, replay: count })
export type Replay = v.InferOutput<typeof replay>

export const bulkReplay = v.object({ queued: count, skipped: v.array(v.object({ runId: id, reason: v.string() })) })
export type BulkReplay = v.InferOutput<typeof bulkReplay>

/** A value as it looks after JSON.stringify and JSON.parse: how a client sees a resource. */
export type Json<T> = T extends Date
  ? string
  : T extends (infer Item)[]
    ? Json<Item>[]
    : T extends object
      ? { [Key in keyof T]: Json<T[Key]> }
      : T

const runsByStatus = v.pipe(
  v.object({ queued: count, waiting: count, running: count, succeeded: count, failed: count, debounced: count, cancelled: count }),
  v.description('Runs created in the window, by their status now'),
)

export const statusSummary = v.object({
  lastHour: runsByStatus,
  lastDay: runsByStatus,
  oldestQueued: v.pipe(
    v.nullable(v.object({ runId: id, zapId: id, createdAt: timestamp, ageSeconds: count })),
    v.description('Your run that has waited longest to start; null when none is queued'),
  ),
  failuresByZap: v.pipe(
    v.array(v.object({ zapId: id, zapName: v.string(), failed: count, lastFailedAt: timestamp })),
    v.description('Zaps with runs that failed in the last day, most failures first (at most 20)'),
  ),
})
export type StatusSummary = v.InferOutput<typeof statusSummary>
