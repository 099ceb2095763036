import type { Fragment, Sql, TransactionSql } from 'postgres'
import { newId } from '@zap/lib/ids'
import type { CreateZapInput, UpdateZapInput, WebhookRateLimit, Zap } from '@zap/lib/resources'
import { verifyOfInput, type Verify } from '@zap/lib/verify'

/** A zap as stored; the API adds its webhook URL. */
export type StoredZap = Omit<Zap, 'webhookUrl' | 'nextRuns'>

/** A schedule as set by a create or update, with its first tick from now (computed by the caller). */
export type ScheduleChange = { nextTick: Date | null }

const zapColumns = (sql: Sql) => sql`
  z.id, z.name, z.enabled, z.auto_replay as "autoReplay", z.concurrency, z.debounce, z.version, v.steps,
  z.verify is not null and z.verify ->> 'scheme' <> 'none' as "hasSecret", ${verifyView(sql)} as verify,
  z.webhook_rate_limit as "webhookRateLimit", z.keep_sensitive_headers as "keepSensitiveHeaders",
  z.retention_days as "retentionDays", z.on_failure as "onFailure", z.schedule, z.created_at as "createdAt", z.updated_at as "updatedAt"`

export async function createZap(sql: Sql, userId: string, input: CreateZapInput, scheduleChange: ScheduleChange = { nextTick: null }) {
  const id = newId()
  await sql`
    with zap as (
      insert into zaps (id, user_id, name, enabled, auto_replay, verify, webhook_rate_limit, keep_sensitive_headers, concurrency, debounce, retention_days, on_failure,
        schedule, schedule_next_at)
      values (${id}, ${userId}, ${input.name}, ${input.enabled ?? true}, ${input.autoReplay ?? false}, ${jsonOrNull(sql, verifyOfInput(input))},
        ${input.webhookRateLimit ? sql.json(input.webhookRateLimit) : null}, ${input.keepSensitiveHeaders ?? false},
        ${jsonOrNull(sql, input.concurrency)}, ${jsonOrNull(sql, input.debounce)}, ${input.retentionDays ?? null}, ${jsonOrNull(sql, input.onFailure)},
        ${jsonOrNull(sql, input.schedule)}, ${input.schedule ? scheduleChange.nextTick : null})
      returning id
    )
    insert into zap_versions (zap_id, version, steps) select id, 1, ${sql.json(input.steps as never)} from zap`
  return (await findZap(sql, userId, id))!
}

export async function listZaps(sql: Sql, userId: string) {
  return sql<StoredZap[]>`
    select ${zapColumns(sql)}
    from zaps z join zap_versions v on v.zap_id = z.id and v.version = z.version
    where z.user_id = ${userId} and z.deleted_at is null
    order by z.id desc`
}

export async function findZap(sql: Sql, userId: string, id: string) {
  const [zap] = await sql<StoredZap[]>`
    select ${zapColumns(sql)}
    from zaps z join zap_versions v on v.zap_id = z.id and v.version = z.version
    where z.id = ${id} and z.user_id = ${userId} and z.deleted_at is null`
  return zap ?? null
}

/** A new steps list makes a new version; runs keep the version they started with. */
export async function updateZap(
  sql: Sql,
  userId: string,
  id: string,
  input: UpdateZapInput,
  scheduleChange: ScheduleChange = { nextTick: null },
) {
  const verify = verifyOfInput(input)
  const updated = await sql.begin(async (tx) => {
    const [zap] = await tx<{ version: number }[]>`
      select version from zaps where id = ${id} and user_id = ${userId} and deleted_at is null for update`
    if (!zap) return false
    const version = input.steps ? zap.version + 1 : zap.version
    if (input.steps) await tx`insert into zap_versions (zap_id, version, steps) values (${id}, ${version}, ${tx.json(input.steps as never)})`
    await tx`
      update zaps set
        name = coalesce(${input.name ?? null}, name),
        enabled = coalesce(${input.enabled ?? null}, enabled),
        auto_replay = coalesce(${input.autoReplay ?? null}, auto_replay),
        verify = ${verify === undefined ? tx`verify` : jsonOrNull(tx, verify)},
        webhook_rate_limit = ${input.webhookRateLimit === undefined ? tx`webhook_rate_limit` : input.webhookRateLimit && tx.json(input.webhookRateLimit)},
        keep_sensitive_headers = coalesce(${input.keepSensitiveHeaders ?? null}, keep_sensitive_headers),
        concurrency = ${input.concurrency === undefined ? tx`concurrency` : jsonOrNull(tx, input.concurrency)},
        debounce = ${input.debounce === undefined ? tx`debounce` : jsonOrNull(tx, input.debounce)},
        retention_days = ${input.retentionDays === undefined ? tx`retention_days` : input.retentionDays},
        on_failure = ${input.onFailure === undefined ? tx`on_failure` : jsonOrNull(tx, input.onFailure)},
        schedule = ${input.schedule === undefined ? tx`schedule` : jsonOrNull(tx, input.schedule)},
        schedule_next_at = ${input.schedule === undefined ? tx`schedule_next_at` : input.schedule && scheduleChange.nextTick},
        version = ${version},
        updated_at = now()
      where id = ${id}`
    if (input.enabled === false) await tx`with ${cancelledRuns(tx, tx`select ${id}::uuid`)} select 1`
    return true
  })
  return updated ? findZap(sql, userId, id) : null
}

/** Deletes the zap and cancels its unfinished runs. */
export async function deleteZap(sql: Sql, userId: string, id: string) {
  const [row] = await sql<{ deleted: boolean }[]>`
    with zap as (
      update zaps set deleted_at = now(), enabled = false, schedule_next_at = null, updated_at = now()
      where id = ${id} and user_id = ${userId} and deleted_at is null
      returning id
    ), ${cancelledRuns(sql, sql`select id from zap`)}
    select exists (select 1 from zap) as deleted`
  return row!.deleted
}

// The unfinished runs of the zaps `zapIds` selects end as cancelled, with their queued messages and waits.
const cancelledRuns = (sql: Sql | TransactionSql, zapIds: Fragment) => sql`
  cancelled as (
    update runs set status = 'cancelled', finished_at = now()
    where zap_id in (${zapIds}) and status in ('queued', 'running')
    returning id
  ), unqueued as (
    delete from outbox where run_id in (select id from cancelled)
  ), unparked as (
    delete from flow_waits where run_id in (select id from cancelled)
  )`

/** A live zap's own webhook limit (null: the server default) and its owner, or null when there is no such zap. */
export async function findWebhookRateLimit(sql: Sql, zapId: string) {
  const [zap] = await sql<{ limit: WebhookRateLimit | null; userId: string }[]>`
    select webhook_rate_limit as limit, user_id as "userId" from zaps where id = ${zapId} and deleted_at is null`
  return zap ?? null
}

// The setting without its secrets and verify token, which never leave the database through a zap.
const verifyView = (sql: Sql) => sql`
  case when z.verify is not null then (z.verify - 'secrets' - 'verifyToken')
    || jsonb_build_object('secretCount', coalesce(jsonb_array_length(z.verify -> 'secrets'), 0), 'hasVerifyToken', z.verify ? 'verifyToken') end`

/** A live zap's verification setting with its secrets, for hooks; null when there is no such zap. */
export async function findZapVerify(sql: Sql, zapId: string, ownerId?: string) {
  const [zap] = await sql<{ verify: Verify | null }[]>`
    select verify from zaps
    where id = ${zapId} and deleted_at is null and (${ownerId ?? null}::uuid is null or user_id = ${ownerId ?? null})`
  return zap ?? null
}

const jsonOrNull = (sql: Pick<Sql, 'json'>, value: object | null | undefined) => (value ? sql.json(value as never) : null)
