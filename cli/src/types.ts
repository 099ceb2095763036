import type * as resources from '@zap/lib/resources'
import type { Json } from '@zap/lib/resources'

// The API's resources as they arrive over JSON; the schemas live in lib/src/resources.ts (types only here).

export type User = Json<resources.User>
export type StepInput = { type: string; config: Record<string, unknown> }
// Steps and flow control settings from a file go to the API as they are; the API names a wrong field.
export type ZapInput = Omit<Json<resources.CreateZapInput>, 'steps' | 'concurrency' | 'debounce' | 'verify'> & {
  steps: StepInput[]
  verify?: Record<string, unknown> | null
  concurrency?: Record<string, unknown>
  debounce?: Record<string, unknown>
}
export type Zap = Json<resources.Zap>
export type StatusSummary = Json<resources.StatusSummary>
export type WebhookRejection = Json<resources.WebhookRejection>
export type RunStatus = resources.RunStatus
export type RunSummary = Json<resources.RunSummary>
export type RunStep = Json<resources.RunStep>
export type Run = Json<resources.Run>
export type Replay = Json<resources.Replay>
export type BulkReplay = Json<resources.BulkReplay>
export type CatalogStep = Json<resources.CatalogEntry> & { config: JsonSchema }

/** The parts of JSON Schema the CLI reads from the catalog to prompt for a step's config. */
export type JsonSchema = {
  type?: string
  enum?: unknown[]
  default?: unknown
  description?: string
  properties?: Record<string, JsonSchema>
  items?: JsonSchema
  anyOf?: JsonSchema[]
  required?: string[]
  minimum?: number
  maximum?: number
  minLength?: number
  maxLength?: number
  pattern?: string
  minItems?: number
  maxItems?: number
}
