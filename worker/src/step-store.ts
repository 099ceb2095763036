import { createBatcher } from '@zap/lib/batcher'
import { isDatabaseDown } from '@zap/lib/database'
import { isPostgresError, type Sql } from '@zap/sql/db'
import { loadStepContexts, recordStepAttempt, recordStepAttempts, type StepRecord } from '@zap/sql/execution'
import { deferStep, deferSteps, type Deferral } from '@zap/sql/flow'
import type { StepMessage } from '@zap/lib/messages'
import { jsonSize } from './size.ts'

export type StepStoreOptions = { batchMs: number; maxBatch: number }

// An attempt carrying more than this is recorded alone, so a batch's statement stays small whatever steps return.
const maxBatchedRecordBytes = 32 * 1024

/**
 * The worker's reads and writes of runs, gathered across the steps it runs at once: the contexts
 * asked for within `batchMs` of each other load in one statement, and the attempts recorded within
 * it are stored in one statement and one commit. Each caller still gets its own answer.
 */
export function createStepStore(sql: Sql, { batchMs, maxBatch }: StepStoreOptions) {
  // A batch PostgreSQL refused for one row's sake is done again row by row; an outage fails them all.
  const splitOn = (error: unknown) => isPostgresError(error) && !isDatabaseDown(error)
  const loadContexts = async (runIds: string[]) => {
    const contexts = await loadStepContexts(sql, runIds)
    return runIds.map((runId) => contexts.get(runId) ?? null)
  }
  const loadContext = createBatcher({
    many: loadContexts,
    one: async (runId: string) => (await loadContexts([runId]))[0]!,
    splitOn,
    waitMs: batchMs,
    maxItems: maxBatch,
  })
  const recordGathered = createBatcher({
    many: (records: StepRecord[]) => recordStepAttempts(sql, records),
    one: (record: StepRecord) => recordStepAttempt(sql, record),
    splitOn,
    waitMs: batchMs,
    maxItems: maxBatch,
  })
  // A backlog over its fair share parks many steps a second: one statement and one commit for those parked together.
  const defer = createBatcher({
    many: (steps: { message: StepMessage; deferral: Deferral }[]) => deferSteps(sql, steps),
    one: ({ message, deferral }: { message: StepMessage; deferral: Deferral }) => deferStep(sql, message, deferral),
    splitOn,
    waitMs: batchMs,
    maxItems: maxBatch,
  })
  const isLarge = (record: StepRecord) => jsonSize(record.input, maxBatchedRecordBytes) + jsonSize(record.output, maxBatchedRecordBytes) > maxBatchedRecordBytes

  return {
    loadContext,
    /** Whether the attempt was recorded (false: an earlier delivery recorded it). */
    record: (record: StepRecord) => (isLarge(record) ? recordStepAttempt(sql, record) : recordGathered(record)),
    /** Sends the step back through the outbox, due at the deferral's time, with the run's reason to wait. */
    defer: (message: StepMessage, deferral: Deferral) => defer({ message, deferral }),
  }
}

export type StepStore = ReturnType<typeof createStepStore>
