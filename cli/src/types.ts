export type StepInput = { type: string; config: Record<string, unknown> }

export type ZapInput = { name: string; steps: StepInput[]; enabled?: boolean; secret?: string }

export type Zap = {
  id: string
  name: string
  enabled: boolean
  version: number
  steps: StepInput[]
  webhookUrl: string
  hasSecret: boolean
  createdAt: string
  updatedAt: string
}

export type RunStatus = 'queued' | 'running' | 'succeeded' | 'failed'

export type RunSummary = { id: string; zapId: string; version: number; status: RunStatus; replay: number; createdAt: string; finishedAt: string | null }

export type RunStep = {
  index: number
  type: string
  status: 'pending' | 'retrying' | 'waiting' | 'succeeded' | 'failed' | 'skipped'
  attempts: number
  input: unknown
  output: unknown
  error: string | null
  startedAt: string | null
  finishedAt: string | null
}

export type Run = RunSummary & {
  trigger: { body: unknown; contentType: string | null; headers: Record<string, string>; query: Record<string, string> }
  steps: RunStep[]
  startedAt: string | null
  replayFrom: number | null
  replayCause: 'manual' | 'bulk' | 'auto' | null
}

export type Replay = { runId: string; version: number; fromStep: number; replay: number }

export type BulkReplay = { queued: number; skipped: { runId: string; reason: string }[] }

export type CatalogStep = { type: string; description: string; config: JsonSchema }

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
