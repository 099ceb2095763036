import type { TransactionSql } from 'postgres'
import type { Schedule } from '@zap/lib/schedule'

export type DueSchedule = { zapId: string; schedule: Schedule; nextAt: Date; now: Date }

/**
 * Claims up to `limit` schedules whose next tick has come, inside the caller's transaction; rows
 * another processor holds are skipped, so each tick is handled by one processor.
 */
export async function claimDueSchedules(tx: TransactionSql, limit: number) {
  return tx<DueSchedule[]>`
    select id as "zapId", schedule, schedule_next_at as "nextAt", now() as now
    from zaps
    where schedule_next_at <= now()
    order by schedule_next_at
    limit ${limit}
    for no key update skip locked`
}

/** Sets each claimed schedule's next tick (null stops it). */
export async function advanceSchedules(tx: TransactionSql, next: { zapId: string; nextAt: Date | null }[]) {
  if (next.length === 0) return
  await tx`
    update zaps z set schedule_next_at = n.next_at
    from jsonb_to_recordset(${tx.json(next.map(({ zapId, nextAt }) => ({ zap_id: zapId, next_at: nextAt })) as never)}) as n(zap_id uuid, next_at timestamptz)
    where z.id = n.zap_id`
}
