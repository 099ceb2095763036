import type { Sql } from 'postgres'

export type RetentionPolicy = { days: number; failedDays: number }

// One pruner at a time across every process on this database.
const pruneLock = 0x7a61_7001

/**
 * Deletes up to `batchSize` finished runs (debounced ones included) past their retention (the zap's `retention_days`, else the
 * policy's window for their status), oldest first, with their steps, history and any outbox rows.
 * Returns how many it deleted, or null when another process is pruning.
 */
export async function pruneFinishedRuns(sql: Sql, policy: RetentionPolicy, batchSize: number) {
  return sql.begin(async (tx) => {
    // Planned afresh for runs as they are now, and the batch picked once: see claimDueRows in outbox.ts.
    const [lock] = await tx<{ locked: boolean }[]>`
      select pg_try_advisory_xact_lock(${pruneLock}) as locked, set_config('plan_cache_mode', 'force_custom_plan', true)`
    if (!lock!.locked) return null
    const deleted = await tx`
      delete from runs where ctid = any(array(
        select r.ctid from runs r join zaps z on z.id = r.zap_id
        -- The shortest window in force bounds the index scan; the exact window is checked per run.
        where r.finished_at < now() - make_interval(days => least(${policy.days}::int, ${policy.failedDays}::int, (select min(retention_days) from zaps)))
          and r.status in ('succeeded', 'failed', 'debounced', 'cancelled')
          and r.finished_at < now() - make_interval(days => coalesce(z.retention_days, case r.status when 'failed' then ${policy.failedDays}::int else ${policy.days}::int end))
        order by r.finished_at
        limit ${batchSize}
        for update of r skip locked
      ))`
    return deleted.count
  })
}
