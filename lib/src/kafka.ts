import { Kafka, logLevel, type Admin, type LogEntry, type Producer } from 'kafkajs'
import type { Logger } from './log.ts'
import type { StepMessage, Transport } from './messages.ts'
import { endSpan, isTracing, SpanKind, startSpan, traceParentOf } from './trace.ts'

export function createKafka(brokers: string, clientId: string, log: Logger) {
  return new Kafka({
    clientId,
    brokers: brokers.split(',').map((broker) => broker.trim()),
    logLevel: logLevel.ERROR,
    logCreator: () => kafkaLogLine(log.child({ component: 'kafkajs' })),
    // kafkajs waits up to 30 s between attempts by default, and a crashed consumer as long before it
    // restarts: capped, a worker consumes again within seconds of Kafka coming back.
    retry: { initialRetryTime: 200, retries: 8, maxRetryTime: 5_000 },
  })
}

/** Creates the topic when it is missing; an existing topic is left as it is. */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number) {
  const admin = kafka.admin()
  await admin.connect()
  try {
    const existing = await admin.listTopics()
    if (!existing.includes(topic)) await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
  } finally {
    await admin.disconnect()
  }
}

/** The outbox relay's producer: idempotent, so a retried send is not written twice (kafkajs needs one request in flight for that). */
function createOutboxProducer(kafka: Kafka) {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1 })
}

/** How often a worker heartbeats, in and between batches: a third of the shortest session the broker allows by default (6 s). */
export const heartbeatIntervalMs = 1_000
/**
 * How long a member may take to finish its batch and rejoin when the group rebalances. A step that
 * could not take its lease (the database away) holds its batch for up to the step timeout, so the
 * step timeout must stay well under this (checked at start).
 */
export const rebalanceTimeoutMs = 60_000

/**
 * A worker's consumer: a short session and frequent heartbeats hand a dead worker's partitions to
 * the others within seconds; short fetch waits keep rebalances and shutdowns quick; small fetches
 * keep a backlog out of memory.
 */
export function createStepConsumer(kafka: Kafka, groupId: string, sessionTimeout: number) {
  return kafka.consumer({
    groupId,
    sessionTimeout,
    heartbeatInterval: heartbeatIntervalMs,
    rebalanceTimeout: rebalanceTimeoutMs,
    maxWaitTimeInMs: 500,
    maxBytesPerPartition: 64 * 1024,
  })
}

/**
 * Publishes step messages through the outbox producer. After a failed send the next one starts from
 * a fresh producer (a new producer id): a broker that lost its producer state (killed and restarted)
 * answers the old producer's sequence numbers with OUT_OF_ORDER_SEQUENCE_NUMBER forever, and kafkajs
 * never recovers from that by itself.
 */
export async function connectKafkaTransport(kafka: Kafka, topic: string): Promise<Transport & { disconnect: () => Promise<void> }> {
  let producer: Producer = createOutboxProducer(kafka)
  await producer.connect()
  let failed = false
  return {
    async publish(messages: StepMessage[]) {
      if (failed) {
        await producer.disconnect().catch(() => {})
        producer = createOutboxProducer(kafka)
        await producer.connect()
        failed = false
      }
      try {
        if (isTracing()) await publishTraced(producer, topic, messages)
        else await producer.send({ topic, acks: -1, messages: messages.map((message) => ({ key: message.runId, value: JSON.stringify(message) })) })
      } catch (error) {
        failed = true
        throw error
      }
    },
    disconnect: () => producer.disconnect(),
  }
}

/** Sends each message in a publish span under its run's trace, with that span's `traceparent` in the message headers. */
async function publishTraced(producer: Producer, topic: string, messages: StepMessage[]) {
  const spans = messages.map((message) =>
    startSpan(`publish ${topic}`, SpanKind.PRODUCER, message.traceParent, { 'messaging.system': 'kafka', 'messaging.destination.name': topic, 'zap.run_id': message.runId, 'zap.step.index': message.stepIndex }),
  )
  try {
    await producer.send({
      topic,
      acks: -1,
      messages: messages.map(({ traceParent, ...message }, index) => ({ key: message.runId, value: JSON.stringify(message), headers: { traceparent: traceParentOf(spans[index]!)! } })),
    })
  } catch (error) {
    for (const span of spans) endSpan(span, {}, true)
    throw error
  }
  for (const span of spans) endSpan(span)
}

/**
 * A reader of the group's lag per partition (end offset minus committed offset; a partition the group
 * never committed counts from its low watermark), on one admin connection opened at the first read.
 */
export function consumerLagReader(kafka: Kafka, topic: string, groupId: string) {
  let admin: Promise<Admin> | null = null
  const connected = () => (admin ??= (async () => {
    const client = kafka.admin()
    await client.connect()
    return client
  })().catch((error) => {
    admin = null
    throw error
  }))
  return {
    async read() {
      const client = await connected()
      const [ends, [committed]] = await Promise.all([client.fetchTopicOffsets(topic), client.fetchOffsets({ groupId, topics: [topic] })])
      const byPartition = new Map(committed!.partitions.map((partition) => [partition.partition, Number(partition.offset)]))
      return ends.map(({ partition, high, low }) => {
        const done = byPartition.get(partition) ?? -1
        return { topic, partition, lag: Math.max(0, Number(high) - (done >= 0 ? done : Number(low))) }
      })
    },
    async close() {
      if (admin) await (await admin.catch(() => null))?.disconnect()
    },
  }
}

/**
 * kafkajs's own lines, as lines of the process's logger. While Kafka is away kafkajs logs every
 * connection attempt, retry and consumer restart as an error; those go to debug, and the relay and
 * the consumer log the outage once when it starts and once when it ends instead.
 */
function kafkaLogLine(log: Logger) {
  return ({ namespace, level, log: { message, timestamp, logger, ...fields } }: LogEntry) => {
    const line = { namespace, ...fields }
    const attempt = attemptNamespaces.has(namespace) || 'retryCount' in fields || /^(Crash|Restarting the consumer)/.test(message)
    if (attempt) log.debug(line, message)
    else if (level === logLevel.ERROR) log.error(line, message)
    else if (level === logLevel.WARN) log.warn(line, message)
    else if (level === logLevel.INFO) log.info(line, message)
    else log.debug(line, message)
  }
}

const attemptNamespaces = new Set(['Connection', 'BrokerPool'])
