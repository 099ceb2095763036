import { Kafka, logLevel, type Admin, type LogEntry, type Producer } from 'kafkajs'
import type { Logger } from './log.ts'
import { trackOutage } from './outage.ts'
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

/** Creates the topic when it is missing (an existing topic is left as it is); true when it created it. */
export async function ensureTopic(kafka: Kafka, topic: string, partitions: number) {
  // A few quick tries: the callers try again themselves, and log the outage while they do.
  const admin = kafka.admin({ retry: { retries: 2, initialRetryTime: 200, maxRetryTime: 1_000 } })
  await admin.connect()
  try {
    const existing = await admin.listTopics()
    if (existing.includes(topic)) return false
    await admin.createTopics({ topics: [{ topic, numPartitions: partitions }], waitForLeaders: true })
    return true
  } finally {
    await admin.disconnect()
  }
}

/**
 * Waits until Kafka answers and the topic exists (created when missing), however long that takes:
 * a service started before Kafka waits for it rather than exiting. The wait is logged once when it
 * starts and once when it ends; `stopped` ends it early (false).
 */
export async function waitForTopic(kafka: Kafka, topic: string, partitions: number, log: Logger, stopped: () => boolean = () => false) {
  const outage = trackOutage(log, 'Kafka')
  for (let failures = 0; !stopped(); failures++) {
    try {
      if (await ensureTopic(kafka, topic, partitions)) log.info({ topic, partitions }, `created the topic ${topic} with ${partitions} partitions`)
      outage.up()
      return true
    } catch (error) {
      outage.down(error)
      await Bun.sleep(Math.min(5_000, 250 * 2 ** failures))
    }
  }
  return false
}

/**
 * The outbox relay's producer: idempotent, so a retried send is not written twice (kafkajs needs one
 * request in flight for that). A send gives up after a few seconds rather than kafkajs's twenty, so a
 * topic that went missing is found and made again soon (the relay retries the batch).
 */
function createOutboxProducer(kafka: Kafka) {
  return kafka.producer({ idempotent: true, maxInFlightRequests: 1, retry: { retries: 3, initialRetryTime: 200, maxRetryTime: 1_000 } })
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
 * Publishes step messages through the outbox producer. It connects in the background from the start,
 * and a relay may publish before it did (Kafka away when the process starts): `problem()` says it
 * is not ready until then. Before the first publish and after any failed one, the topic is made
 * again if it went missing (a lost log directory, a deleted topic; brokers in production often do
 * not create topics by themselves). After a failed send the next one starts from a fresh producer
 * (a new producer id): a broker that lost its producer state (killed and restarted) answers the old
 * producer's sequence numbers with OUT_OF_ORDER_SEQUENCE_NUMBER forever, and kafkajs never recovers
 * from that by itself.
 */
export function createKafkaTransport(kafka: Kafka, topic: string, partitions: number, log: Logger): Transport & { problem: () => string | null; disconnect: () => Promise<void> } {
  let producer: Promise<Producer> | null = null
  let checkTopic = true
  let problem: string | null = 'waiting for Kafka'
  let closed = false
  const connected = () =>
    (producer ??= (async () => {
      if (checkTopic) {
        if (await ensureTopic(kafka, topic, partitions)) log.warn({ topic, partitions }, `the topic ${topic} was missing: created it with ${partitions} partitions`)
        checkTopic = false
      }
      const fresh = createOutboxProducer(kafka)
      try {
        await fresh.connect()
      } catch (error) {
        await fresh.disconnect().catch(() => {})
        throw error
      }
      return fresh
    })().catch((error) => {
      producer = null
      throw error
    }))
  const dropProducer = async () => {
    const failed = producer
    producer = null
    checkTopic = true
    problem = 'waiting for Kafka'
    await (await failed?.catch(() => null))?.disconnect().catch(() => {})
  }

  void (async () => {
    const outage = trackOutage(log, 'Kafka')
    for (let failures = 0; !closed && problem !== null; failures++) {
      try {
        await connected()
        problem = null
        outage.up()
      } catch (error) {
        outage.down(error)
        await Bun.sleep(Math.min(5_000, 250 * 2 ** failures))
      }
    }
  })()

  return {
    problem: () => problem,
    async publish(messages: StepMessage[]) {
      try {
        const ready = await connected()
        if (isTracing()) await publishTraced(ready, topic, messages)
        else await ready.send({ topic, acks: -1, messages: messages.map((message) => ({ key: message.runId, value: JSON.stringify(message) })) })
        problem = null
      } catch (error) {
        await dropProducer()
        throw error
      }
    },
    async disconnect() {
      closed = true
      await (await producer?.catch(() => null))?.disconnect()
    },
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
