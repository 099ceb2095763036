import { Kafka, logLevel } from 'kafkajs'
import { api, call } from './http.ts'
import { requireEnv } from './services.ts'
import { startService, waitUntil, type RunningService } from './services.ts'

export type Pipeline = { topic: string; group: string; processor: RunningService; worker: RunningService; env: Record<string, string>; stop: () => Promise<void> }

export const fastRetries = { RETRY_BASE_MS: '20', RETRY_MAX_MS: '200', STEP_TIMEOUT_MS: '1000', STEP_MAX_ATTEMPTS: '4' }

/** A processor and a worker as real processes on their own topic and consumer group; `only` adds variables for one of them. */
export async function startPipeline(env: Record<string, string> = {}, only: { processor?: Record<string, string>; worker?: Record<string, string> } = {}): Promise<Pipeline> {
  const suffix = crypto.randomUUID().slice(0, 8)
  const fullEnv = { KAFKA_TOPIC: `zap-events-${suffix}`, KAFKA_GROUP: `zap-workers-${suffix}`, OUTBOX_POLL_MS: '200', ...fastRetries, ...env }
  const processor = await startService('processor', { ...fullEnv, ...only.processor })
  const worker = await startService('worker', { ...fullEnv, ...only.worker })
  // stop() reads the fields, not the variables: a test may replace the worker or the processor.
  const pipeline: Pipeline = {
    topic: fullEnv.KAFKA_TOPIC,
    group: fullEnv.KAFKA_GROUP,
    processor,
    worker,
    env: fullEnv,
    stop: async () => {
      await Promise.all([pipeline.processor.stop(), pipeline.worker.stop()])
    },
  }
  return pipeline
}

const finalStatuses = new Set(['succeeded', 'failed'])

export async function waitForRun(token: string, runId: string, timeoutMs = 20_000) {
  let run: { status: string; steps: { status: string; attempts: number; output: any; error: string | null; input: any; startedAt: string; finishedAt: string }[] } & Record<string, any> = { status: 'unknown', steps: [] }
  await waitUntil(async () => {
    run = (await call(api, 'GET', `/api/v1/runs/${runId}`, { token })).body.run
    return finalStatuses.has(run.status)
  }, () => `run ${runId} to finish (last seen ${JSON.stringify(run)})`, timeoutMs)
  return run
}

export function testKafka(brokers = requireEnv('KAFKA_BROKERS')) {
  return new Kafka({ clientId: 'zap-tests', brokers: brokers.split(','), logLevel: logLevel.NOTHING })
}

/** Waits until the consumer group has committed everything written to the topic so far. */
export async function waitForConsumed(topic: string, group: string, brokers?: string) {
  const admin = testKafka(brokers).admin()
  await admin.connect()
  try {
    await waitUntil(async () => {
      const ends = await admin.fetchTopicOffsets(topic)
      const [committed] = await admin.fetchOffsets({ groupId: group, topics: [topic] })
      const byPartition = new Map(committed!.partitions.map((partition) => [partition.partition, Number(partition.offset)]))
      return ends.every((end) => Number(end.high) === 0 || (byPartition.get(end.partition) ?? -1) >= Number(end.high))
    }, `group ${group} to consume ${topic}`)
  } finally {
    await admin.disconnect()
  }
}
