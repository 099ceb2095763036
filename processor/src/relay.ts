import type { Sql } from '@zap/sql/db'
import { msUntilNextDue, relayOutboxBatch } from '@zap/sql/outbox'
import type { Transport } from '@zap/lib/messages'
import type { Logger } from '@zap/lib/log'
import { messagesPublished } from '@zap/lib/metrics'
import { isDatabaseDown } from '@zap/lib/database'
import { trackOutage } from '@zap/lib/outage'
import { isTracing } from '@zap/lib/trace'

export type RelayOptions = { sql: Sql; transport: Transport; batchSize: number; pollMs: number; log: Logger }

/**
 * Drains the outbox into the transport until stopped: woken by NOTIFY after writers commit, by a
 * timer when a delayed row falls due, and by a polling fallback in case a notification is missed.
 * Nothing it needs has to be there when it starts: it listens and drains as soon as PostgreSQL and
 * the transport answer, and again after every outage. `problem()` says why it is not relaying, for readiness.
 */
export function startRelay({ sql, transport, batchSize, pollMs, log }: RelayOptions) {
  let running = true
  let wake = () => {}
  let pending = true
  let problem: string | null = 'the outbox relay has not relayed yet'
  const notified = () => {
    pending = true
    wake()
  }
  const outages = { database: trackOutage(log, 'database'), kafka: trackOutage(log, 'Kafka') }
  const listening = listenUntilStopped(() => running, notified, log, sql)

  async function drain() {
    let total = 0
    for (let relayed = batchSize; relayed === batchSize && running; total += relayed) {
      relayed = await relayOutboxBatch(sql, batchSize, (messages) => transport.publish(messages), isTracing())
      messagesPublished.inc(relayed)
    }
    return total
  }

  async function loop() {
    let failures = 0
    while (running) {
      pending = false
      let sleepMs = pollMs
      try {
        // Only an idle pass looks for delayed rows; a busy relay is woken often enough anyway.
        if ((await drain()) === 0) {
          const nextDue = await msUntilNextDue(sql)
          if (nextDue !== null) sleepMs = Math.min(pollMs, Math.max(nextDue, 5))
        }
        failures = 0
        problem = null
        outages.database.up()
        outages.kafka.up()
      } catch (error) {
        failures++
        sleepMs = Math.min(pollMs, 100 * 2 ** failures)
        // An outage is logged once when it starts and once when it ends; anything else at every failure.
        if (isDatabaseDown(error)) {
          outages.database.down(error)
          problem = 'the outbox relay is waiting for the database'
        } else if ((error as Error)?.name?.startsWith('KafkaJS')) {
          outages.kafka.down(error)
          problem = 'the outbox relay is waiting for Kafka'
        } else {
          log.warn({ err: error, retryInMs: sleepMs }, 'outbox relay failed; retrying')
          problem = `the outbox relay failed: ${(error as Error)?.message}`
        }
      }
      if (!pending && running) await new Promise<void>((resolve) => {
        const timer = setTimeout(resolve, sleepMs)
        wake = () => {
          clearTimeout(timer)
          resolve()
        }
      })
    }
  }
  const done = loop().catch((error) => {
    problem = 'the outbox relay stopped after an unexpected error'
    log.error({ err: error }, problem)
  })
  return {
    problem: () => problem,
    async stop() {
      running = false
      wake()
      await done
      await listening.stop()
    },
  }
}

/**
 * LISTENs for committed outbox rows, trying again until it works: the relay polls meanwhile, so a
 * LISTEN that fails (PostgreSQL away when the process starts) only delays wake-ups. Once listening,
 * postgres.js listens again by itself after every reconnect.
 */
function listenUntilStopped(running: () => boolean, notified: () => void, log: Logger, sql: Sql) {
  let listener: { unlisten: () => Promise<void> } | null = null
  let timer: ReturnType<typeof setTimeout> | undefined
  const attempt = (failures: number) => {
    sql.listen('zap_outbox', notified, notified).then(
      (meta) => {
        if (running()) listener = meta
        else void meta.unlisten().catch(() => {})
      },
      (error) => {
        log.debug({ err: error }, 'LISTEN for outbox rows failed; trying again')
        if (running()) timer = setTimeout(() => attempt(failures + 1), Math.min(5_000, 100 * 2 ** failures))
      },
    )
  }
  attempt(0)
  return {
    async stop() {
      clearTimeout(timer)
      await listener?.unlisten().catch(() => {})
    },
  }
}
