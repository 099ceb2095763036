import type { Sql, TransactionSql } from 'postgres'
import type { StepMessage } from '@zap/lib/messages'

/**
 * Takes due outbox rows (other relays skip them) and hands them to `publish`, in a transaction that
 * commits their deletion only once `publish` resolved; if it throws, or the process dies first, the
 * rows stay for the next pass. Returns how many it relayed. With `withTraceParent`, each message
 * carries its run's trace context.
 */
export async function relayOutboxBatch(sql: Sql, batchSize: number, publish: (messages: StepMessage[]) => Promise<void>, withTraceParent = false) {
  return sql.begin(async (tx) => {
    // A deletion lost with a crash of PostgreSQL only publishes its rows again, which at-least-once
    // delivery allows: the commit need not wait for the WAL flush.
    // Planned for the outbox as it is at each claim, not as it was when a plan was cached (see claimDueRows).
    const [, rows] = await Promise.all([
      tx`select set_config('synchronous_commit', 'off', true), set_config('plan_cache_mode', 'force_custom_plan', true)`,
      tx<StepMessage[]>`${claimDueRows(tx, batchSize, withTraceParent)}`,
    ])
    if (rows.length > 0) await publish(rows)
    return rows.length
  })
}

/**
 * Deletes up to `batchSize` due rows no other relay holds, returning them as step messages. The rows
 * are picked once (an InitPlan, whatever the plan) and deleted by their tuple ids. Written as
 * `id in (select …)`, the generic plan PostgreSQL cached while the outbox was nearly empty joined every
 * outbox row against the locking subquery, run again per row: a sudden backlog of 200,000 rows held
 * the relay in one claim for over 10 minutes. A plan made for a nearly empty outbox would also find
 * the tuples by a scan of the whole table, so the relay plans each claim afresh (force_custom_plan).
 */
export const claimDueRows = (sql: Sql | TransactionSql, batchSize: number, withTraceParent: boolean) => sql`
  with taken as (
    delete from outbox where ctid = any(array(
      select ctid from outbox where available_at <= now()
      order by available_at, id
      limit ${batchSize}
      for update skip locked))
    returning id, run_id, step_index, attempt, replay, available_at)
  select run_id as "runId", step_index as "stepIndex", attempt, replay
    ${withTraceParent ? sql`, (select trace_parent from runs where runs.id = taken.run_id) as "traceParent"` : sql``}
  from taken order by available_at, id`

/** Milliseconds until the next delayed row is due, or null when none waits. */
export async function msUntilNextDue(sql: Sql) {
  const [row] = await sql<{ ms: number | null }[]>`
    select greatest(0, extract(epoch from min(available_at) - now()) * 1000)::float8 as ms from outbox`
  return row?.ms ?? null
}

/**
 * Wakes the outbox relays after a commit: at once after a quiet spell, then at most once per
 * `intervalMs`. The committed outbox row is what counts; a lost notification only waits for a poll.
 */
export function outboxNotifier(sql: Sql, intervalMs = 5) {
  let lastSent = 0
  let scheduled = false
  return function wakeRelays() {
    if (scheduled) return
    scheduled = true
    setTimeout(() => {
      scheduled = false
      lastSent = Date.now()
      sql`select pg_notify('zap_outbox', '')`.catch(() => {})
    }, Math.max(0, lastSent + intervalMs - Date.now()))
  }
}

/** How many rows wait in the outbox, and how long the oldest due one has waited (for metrics). */
export async function outboxStats(sql: Sql) {
  const [row] = await sql<{ depth: number; oldestDueSeconds: number }[]>`
    select count(*)::int as depth,
      coalesce(extract(epoch from now() - min(available_at) filter (where available_at <= now())), 0)::float8 as "oldestDueSeconds"
    from outbox`
  return row!
}
