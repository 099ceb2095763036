import type postgres from 'postgres'
import type { Sql, TransactionSql } from '@zap/sql/db'
import { webhookBody, type Throughput } from './ingestion.ts'
import type { EndToEnd } from './end-to-end.ts'
import type { TopStatement } from './report.ts'
import { readAll, watchPeaks } from './resources.ts'
import { waitFor } from './wait.ts'
import { settleTables } from './stack.ts'

export type Drain = {
  backlog: number
  /** From the commit of the backlog until the outbox held none of it. */
  outboxSeconds: number
  outboxPerSecond: number
  /** From the same commit until the last of its runs finished. */
  runsPerSecond: number
  unfinished: number
  failed: number
  processorIdleMb: number
  processorPeakMb: number
  workerPeakMb: number
}

export type History = {
  generated: number
  runs: number
  steps: number
  generateSeconds: number
  vacuumSeconds: number
  sizeMb: number
  ingestion: Throughput
  endToEnd: EndToEnd
  drains: Drain[]
  /** pg_stat_statements from the end of the generation on. */
  topStatements: TopStatement[]
}

export type HistorySkipped = { skipped: string }

// Runs in one statement: each chunk's WAL and the memory of its CTE stay bounded, whatever the total.
export const chunkSize = 100_000
const otherUsers = 19
const zapsPerUser = 4
// Inside the processor's default retention (30 days), so its prune job leaves them alone.
const spanDays = 28

/** Ranges [from, to) of at most `size` covering 0..total, for the chunked inserts. */
export function chunksOf(total: number, size: number) {
  return Array.from({ length: Math.ceil(total / size) }, (_, index) => [index * size, Math.min(total, (index + 1) * size)] as const)
}

/**
 * Stores `count` finished runs as real ones look: spread over 28 days before now (ids are UUIDv7 of
 * their creation time, as hooks makes them), over the bench user's and 19 other users' zaps of one
 * to three http steps, 4% failed at their last step after 5 attempts, each with its run_steps rows.
 * Then VACUUM ANALYZE and a checkpoint, so the measurements after it start from settled tables.
 */
export async function generateHistory(sql: Sql, benchUserId: string, count: number, log: (line: string) => void) {
  const started = performance.now()
  await createHistoryZaps(sql, benchUserId)
  for (const [from, to] of chunksOf(count, chunkSize)) {
    await insertRuns(sql, from, to, count)
    if (to % 1_000_000 === 0 || to === count) log(`history: ${to.toLocaleString('en-US')} runs stored after ${Math.round((performance.now() - started) / 1000)} s`)
  }
  const generateSeconds = (performance.now() - started) / 1000
  const vacuumStarted = performance.now()
  await settleTables(sql)
  const vacuumSeconds = (performance.now() - vacuumStarted) / 1000
  const [stored] = await sql<{ runs: number; steps: number; sizeMb: number }[]>`
    select (select count(*)::int from runs) as runs, (select count(*)::int from run_steps) as steps,
      (pg_total_relation_size('runs') + pg_total_relation_size('run_steps'))::float8 / 1048576 as "sizeMb"`
  return { generated: count, ...stored!, generateSeconds, vacuumSeconds }
}

async function createHistoryZaps(sql: Sql, benchUserId: string) {
  await sql`
    insert into users (id, email, name, password_hash)
    select gen_random_uuid(), 'history-' || u || '@example.com', 'history ' || u, 'not-a-hash'
    from generate_series(1, ${otherUsers}) as u`
  await sql`
    with owner as (
      select id from users where email like 'history-%' union all select ${benchUserId}::uuid
    ), zap as (
      insert into zaps (id, user_id, name)
      select gen_random_uuid(), owner.id, 'history ' || n from owner cross join generate_series(1, ${zapsPerUser}) as n
      returning id, name
    )
    insert into zap_versions (zap_id, version, steps)
    select zap.id, 1, (
      select jsonb_agg(jsonb_build_object('type', 'http', 'config', jsonb_build_object('method', 'POST', 'url', 'http://127.0.0.1:9/step-' || s)))
      from generate_series(1, 1 + right(zap.name, 1)::int % 3) as s)
    from zap`
}

async function insertRuns(sql: Sql, from: number, to: number, count: number) {
  const headers = { host: 'zap.example.com', 'content-type': 'application/json', 'content-length': String(webhookBody.length), 'user-agent': 'Stripe/1.0' }
  await sql.begin(async (tx) => {
    // Every reference exists by construction: without the five foreign-key checks per run (replica
    // mode skips their triggers) a chunk took 39-43 s instead of 60-71 s (100,000 runs, loaded machine).
    await tx`set local session_replication_role = replica`
    await tx`
      with zap as (
        select z.id, z.user_id, jsonb_array_length(v.steps) as steps, (row_number() over (order by z.id) - 1)::int as ord, count(*) over ()::int as zaps
        from zaps z join zap_versions v on v.zap_id = z.id and v.version = 1
        where z.name like 'history %'
      ), run as (
        insert into runs (id, zap_id, user_id, version, status, trigger_body, trigger_content_type, trigger_headers, trigger_query, created_at, started_at, finished_at)
        select ${uuidV7At(tx, tx`t.at`)}, zap.id, zap.user_id, 1, case when g % 25 = 0 then 'failed' else 'succeeded' end,
          jsonb_build_object('event', 'order.created', 'orderId', g, 'amount', (g % 10000) / 100.0, 'currency', 'EUR'),
          'application/json', ${tx.json(headers)}::jsonb, '{}'::jsonb,
          t.at, t.at + interval '3 milliseconds', t.at + case when g % 25 = 0 then interval '95 seconds' else interval '40 milliseconds' end
        from generate_series(${from}::int, ${to - 1}::int) as g
        cross join lateral (select now() - interval '1 hour' - make_interval(secs => (${count}::int - g)::float8 * ${spanDays * 86_400 / count}::float8)) as t(at)
        join zap on zap.ord = g % zap.zaps
        returning id, zap_id, status, started_at, finished_at
      )
      insert into run_steps (run_id, index, type, status, attempts, input, output, error, started_at, finished_at)
      select run.id, s, 'http', case when failing then 'failed' else 'succeeded' end, case when failing then 5 else 1 end,
        jsonb_build_object('method', 'POST', 'url', 'http://127.0.0.1:9/step-' || s),
        case when failing then null else '{"status": 200, "headers": {"content-type": "application/json"}, "body": {"ok": true}}'::jsonb end,
        case when failing then 'HTTP 500 from 127.0.0.1' end,
        run.started_at, run.finished_at
      from run join zap on zap.id = run.zap_id
      cross join generate_series(0, zap.steps - 1) as s
      cross join lateral (select run.status = 'failed' and s = zap.steps - 1 as failing) as f`
  })
}

/**
 * Commits `count` queued runs of `zapId` with their due outbox rows in one statement, wakes the
 * relays, and measures how fast the processor empties the outbox and the worker finishes the runs,
 * with the processor's and the worker's peak memory meanwhile.
 */
export async function drainBacklog(sql: Sql, zapId: string, count: number, pids: { processor: number; worker: number }): Promise<Drain> {
  const processorIdleMb = readAll({ pids: { processor: pids.processor }, trees: {} }).processor!.rssMb
  await queueBacklog(sql, zapId, count)
  const [committed] = await sql<{ at: Date }[]>`select clock_timestamp() as at`
  const started = performance.now()
  const peaks = watchPeaks({ pids, trees: {} })
  try {
    await sql`select pg_notify('zap_outbox', '')`
    // Nothing else is in the outbox by now, and a one-step run that succeeds adds no row. Both checks
    // stop at the first row they find: counting 200,000 rows four times a second took CPU from the drain.
    const timeoutMs = Math.max(120_000, count * 10)
    await waitFor(async () => (await sql`select id from outbox order by available_at, id limit 1`).length === 0, timeoutMs)
    const outboxSeconds = (performance.now() - started) / 1000
    await waitFor(async () => (await sql`select id from runs where zap_id = ${zapId} and status in ('queued', 'running') limit 1`).length === 0, timeoutMs, 500)
    const [summary] = await sql<{ unfinished: number; failed: number; seconds: number }[]>`
      select count(*) filter (where status in ('queued', 'running'))::int as unfinished, count(*) filter (where status = 'failed')::int as failed,
        extract(epoch from max(finished_at) - ${committed!.at})::float8 as seconds
      from runs where zap_id = ${zapId}`
    return {
      backlog: count,
      outboxSeconds,
      outboxPerSecond: count / outboxSeconds,
      runsPerSecond: (count - summary!.unfinished) / summary!.seconds,
      unfinished: summary!.unfinished,
      failed: summary!.failed,
      processorIdleMb,
      processorPeakMb: peaks.peaks.processor!,
      workerPeakMb: peaks.peaks.worker!,
    }
  } finally {
    peaks.stop()
  }
}

/** Stores `count` queued runs of `zapId` with their due outbox rows, in one statement and one commit. */
export async function queueBacklog(sql: Sql, zapId: string, count: number) {
  await sql`
    with run as (
      insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query)
      select ${uuidV7At(sql, sql`clock_timestamp()`)}, z.id, z.user_id, z.version, ${webhookBody}::jsonb, 'application/json', '{}'::jsonb, '{}'::jsonb
      from zaps z cross join generate_series(1, ${count}::int)
      where z.id = ${zapId}
      returning id
    )
    insert into outbox (run_id, step_index) select id, 0 from run`
}

/** A UUIDv7 of the time `at` (48 bits of milliseconds since the epoch, version 7, the rest random), as hooks makes run ids. */
const uuidV7At = (sql: Sql | TransactionSql, at: postgres.Fragment) => sql`
  encode(set_bit(set_bit(overlay(uuid_send(gen_random_uuid()) placing substring(int8send((extract(epoch from ${at}) * 1000)::bigint) from 3) from 1 for 6), 52, 1), 53, 1), 'hex')::uuid`
