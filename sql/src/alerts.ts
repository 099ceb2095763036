import type { Sql } from 'postgres'
import type { OnFailure } from '@zap/lib/resources'

export type RunFailure = { runId: string; stepIndex: number; stepType: string; error: string | null; failedAt: string }

/**
 * Notes a run that finally failed, when its zap reports failures: the first failure is due at once,
 * later ones are folded into the next alert, due `throttleMs` after the last one was sent.
 */
export async function noteRunFailure(sql: Sql, failure: Omit<RunFailure, 'failedAt'>, throttleMs: number) {
  await sql`
    insert into failure_alerts (zap_id, pending, last_failure, due_at)
    select z.id, 1, ${sql.json({ ...failure, failedAt: new Date().toISOString() })}, now()
    from runs r join zaps z on z.id = r.zap_id
    where r.id = ${failure.runId} and z.on_failure is not null
    on conflict (zap_id) do update set
      pending = failure_alerts.pending + 1,
      last_failure = excluded.last_failure,
      due_at = case when failure_alerts.pending = 0
        then greatest(now(), failure_alerts.last_sent_at + ${throttleMs} * interval '1 millisecond')
        else failure_alerts.due_at end`
}

export type DueAlert = { zapId: string; zapName: string; onFailure: OnFailure | null; secret: string | null; failures: number; failure: RunFailure }

/** Claims up to `limit` due alerts (other workers skip them) and marks them sent: each is delivered at most once. */
export async function claimDueAlerts(sql: Sql, limit: number) {
  return sql<DueAlert[]>`
    with due as (
      select zap_id, pending, last_failure from failure_alerts
      where pending > 0 and due_at <= now()
      order by due_at
      limit ${limit}
      for update skip locked
    ), sent as (
      update failure_alerts a set pending = 0, last_failure = null, due_at = null, last_sent_at = now()
      from due where a.zap_id = due.zap_id
    )
    select due.zap_id as "zapId", z.name as "zapName", z.on_failure as "onFailure", u.alert_secret as secret,
      due.pending as failures, due.last_failure as failure
    from due join zaps z on z.id = due.zap_id join users u on u.id = z.user_id`
}

/** Makes a new alert secret for the user, replacing any earlier one, and returns it. */
export async function rotateAlertSecret(sql: Sql, userId: string) {
  const secret = `whsec_${Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('base64')}`
  await sql`update users set alert_secret = ${secret} where id = ${userId}`
  return secret
}

export async function hasAlertSecret(sql: Sql, userId: string) {
  const [row] = await sql<{ has: boolean }[]>`select alert_secret is not null as has from users where id = ${userId}`
  return row?.has === true
}
