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
 */
export function startRelay({ sql, transport, batchSize, pollMs, log }: RelayOptions) {
  let running = true
  let wake = () => {}
  let pending = true
  const notified = () => {
    pending = true
    wake()
  }
  const listening = sql.listen('zap_outbox', notified, notified)
  const outages = { database: trackOutage(log, 'database'), kafka: trackOutage(log, 'Kafka') }

  async function drain() {
    let total = 0
    for (let relayed = batchSize; relayed === batchSize && running; total += relayed) {
      relayed = await relayOutboxBatch(sql, batchSize, (messages) => transport.publish(messages), isTracing())
      messagesPublished.inc(relayed)
    }
    return total
  }

  async function loop() {
    await listening
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
        outages.database.up()
        outages.kafka.up()
      } catch (error) {
        failures++
        sleepMs = Math.min(pollMs, 100 * 2 ** failures)
        // An outage is logged once when it starts and once when it ends; anything else at every failure.
        if (isDatabaseDown(error)) outages.database.down(error)
        else if ((error as Error)?.name?.startsWith('KafkaJS')) outages.kafka.down(error)
        else log.warn({ err: error, retryInMs: sleepMs }, 'outbox relay failed; retrying')
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

  const done = loop()
  return {
    async stop() {
      running = false
      wake()
      await done
      await (await listening).unlisten().catch(() => {})
    },
  }
}
