import type { Sql } from 'postgres'
import type { StatusSummary } from '@zap/lib/resources'
import { isHeldBack } from './runs.ts'

const maxZapsShown = 20

/** The user's runs of the last hour and day by status, the oldest queued run and the zaps that failed, in one round trip. */
export async function userStatus(sql: Sql, userId: string): Promise<StatusSummary> {
  const [row] = await sql<{ counts: { status: string; hour: number; day: number }[] | null; oldest: StatusSummary['oldestQueued']; failures: StatusSummary['failuresByZap'] | null }[]>`
    select
      (select json_agg(c) from (
        select case when ${isHeldBack(sql)} then 'waiting' else r.status end as status,
          count(*) filter (where r.created_at > now() - interval '1 hour')::int as hour, count(*)::int as day
        from runs r where r.user_id = ${userId} and r.created_at > now() - interval '1 day'
        group by 1
      ) c) as counts,
      (select json_build_object('runId', r.id, 'zapId', r.zap_id, 'createdAt', r.created_at,
          'ageSeconds', floor(extract(epoch from now() - r.created_at))::int)
        from runs r where r.user_id = ${userId} and r.status = 'queued'
        order by r.created_at limit 1) as oldest,
      (select json_agg(f) from (
        select r.zap_id as "zapId", z.name as "zapName", count(*)::int as failed, max(coalesce(r.finished_at, r.created_at)) as "lastFailedAt"
        from runs r join zaps z on z.id = r.zap_id
        where r.user_id = ${userId} and r.status = 'failed' and r.created_at > now() - interval '1 day'
        group by r.zap_id, z.name
        order by failed desc, "lastFailedAt" desc
        limit ${maxZapsShown}
      ) f) as failures`
  const byStatus = (window: 'hour' | 'day') => {
    const counts = { queued: 0, waiting: 0, running: 0, succeeded: 0, failed: 0, debounced: 0, cancelled: 0 }
    for (const count of row!.counts ?? []) counts[count.status as keyof typeof counts] = count[window]
    return counts
  }
  const oldest = row!.oldest
  return {
    lastHour: byStatus('hour'),
    lastDay: byStatus('day'),
    oldestQueued: oldest ? { ...oldest, createdAt: new Date(oldest.createdAt) } : null,
    failuresByZap: (row!.failures ?? []).map((failure) => ({ ...failure, lastFailedAt: new Date(failure.lastFailedAt) })),
  }
}
