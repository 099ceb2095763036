import type { Sql } from 'postgres'
import type { WebhookRejection } from '@zap/lib/resources'

/** How many refused deliveries are kept per zap and kind, and for how long. */
export const rejectionsKept = { perZap: 100, days: 7 }

export type RejectionKind = WebhookRejection['kind']

/**
 * Records a refused delivery and, in the same statement, drops the zap's rejections of the same kind past the
 * newest `rejectionsKept.perZap` or older than `rejectionsKept.days`, so the table stays small however often a
 * sender fails, and subscription checks (which anyone can send) never push signature failures out.
 */
export async function recordRejection(sql: Sql, zapId: string, rejection: Omit<WebhookRejection, 'receivedAt'>) {
  await sql`
    with recorded as (
      insert into webhook_rejections (zap_id, kind, reason, method, sender_ip, body_bytes, body_preview)
      values (${zapId}, ${rejection.kind}, ${rejection.reason}, ${rejection.method}, ${rejection.senderIp}, ${rejection.bodyBytes}, ${rejection.bodyPreview})
    )
    delete from webhook_rejections
    where zap_id = ${zapId} and kind = ${rejection.kind} and (
      received_at < now() - ${rejectionsKept.days} * interval '1 day'
      or id <= (select id from webhook_rejections where zap_id = ${zapId} and kind = ${rejection.kind} order by id desc offset ${rejectionsKept.perZap - 1} limit 1))`
}

/** The zap's rejections (of one kind, if given), newest first; null when the user has no such zap. */
export async function listRejections(sql: Sql, userId: string, zapId: string, filter: { limit: number; kind?: RejectionKind }) {
  const [zap] = await sql`select 1 from zaps where id = ${zapId} and user_id = ${userId} and deleted_at is null`
  if (!zap) return null
  return sql<WebhookRejection[]>`
    select received_at as "receivedAt", kind, reason, method, sender_ip as "senderIp", body_bytes as "bodyBytes", body_preview as "bodyPreview"
    from webhook_rejections
    where zap_id = ${zapId} and received_at >= now() - ${rejectionsKept.days} * interval '1 day'
      ${filter.kind ? sql`and kind = ${filter.kind}` : sql``}
    order by id desc
    limit ${filter.limit}`
}
