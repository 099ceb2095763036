import type { Consumer, EachBatchPayload } from 'kafkajs'
import pLimit from 'p-limit'
import * as v from 'valibot'
import type { Sql } from '@zap/sql/db'
import { stepMessage, type StepMessage } from '@zap/lib/messages'
import { isDatabaseDown } from '@zap/lib/http'
import { executeStep, type ExecuteOptions } from './execute.ts'
import { failRunOnInternalError } from '@zap/sql/execution'

export type ConsumeOptions = { sql: Sql; consumer: Consumer; topic: string; concurrency: number; execute: ExecuteOptions; log?: (line: string) => void }

/**
 * Runs every step message of each fetched batch concurrently (bounded), heartbeating meanwhile;
 * offsets are committed only after the batch's results are recorded. Business failures never throw.
 */
export async function consumeSteps({ sql, consumer, topic, concurrency, execute, log = console.error }: ConsumeOptions) {
  const limit = pLimit(concurrency)
  let stopping = false

  async function handle(message: StepMessage) {
    for (let failures = 0; ; failures++) {
      try {
        return await executeStep(sql, message, execute)
      } catch (error) {
        if (stopping) throw error
        const reason = (error as Error).message
        log(`step ${message.runId}:${message.stepIndex}: ${reason}; retrying`)
        if (!isDatabaseDown(error) && failures >= 2) return failRun(message, reason)
        await Bun.sleep(Math.min(5_000, 200 * 2 ** failures))
      }
    }
  }

  // A bug must not block the partition: after a few tries the run fails with the reason instead.
  async function failRun(message: StepMessage, reason: string) {
    await failRunOnInternalError(sql, message.runId, message.stepIndex, 'unknown', `Internal error: ${reason}`)
    return 'executed' as const
  }

  async function eachBatch({ batch, heartbeat }: EachBatchPayload) {
    const heartbeats = setInterval(() => heartbeat().catch(() => {}), 3_000)
    try {
      const messages = batch.messages.flatMap((message) => parseMessage(message.value, log))
      await Promise.all(messages.map((message) => limit(() => handle(message))))
    } finally {
      clearInterval(heartbeats)
    }
  }

  await consumer.subscribe({ topic, fromBeginning: true })
  await consumer.run({ eachBatch, partitionsConsumedConcurrently: 6 })
  return {
    async stop() {
      stopping = true
      await consumer.disconnect()
    },
  }
}

function parseMessage(value: Buffer | null, log: (line: string) => void): StepMessage[] {
  try {
    return [v.parse(stepMessage, JSON.parse(value?.toString() ?? ''))]
  } catch {
    log(`ignoring a malformed message: ${value?.toString().slice(0, 200)}`)
    return []
  }
}
