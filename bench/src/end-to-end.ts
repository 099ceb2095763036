import type { Sql } from '@zap/sql/db'
import { join } from 'node:path'
import { generateLoad } from './load.ts'
import type { PacedResult } from './paced.ts'
import { expectStored, webhookBody } from './ingestion.ts'
import { percentile } from './stats.ts'
import { waitFor } from './wait.ts'

export type EndToEnd = {
  offeredRate: number | 'max'
  accepted: number
  completed: number
  failed: number
  unfinished: number
  runsPerSecond: number
  p50: number
  p95: number
  p99: number
  /** Statements PostgreSQL ran per accepted webhook, every process's (pg_stat_statements). */
  statementsPerRun: number
}

const drainTimeoutMs = 120_000

/** Sends `amount` webhooks at a fixed rate (or as fast as hooks takes them), waits for the runs to finish, and reads their latency from the runs table. */
export async function measureEndToEnd(sql: Sql, hooksUrl: string, zapId: string, options: { rate?: number; connections: number; amount: number }): Promise<EndToEnd> {
  const url = `${hooksUrl}/hooks/${zapId}`
  const statementsBefore = await statementsRun(sql)
  const load = options.rate ? await paced(url, options.rate, options.amount) : await generateLoad({ url, connections: options.connections, amount: options.amount, body: webhookBody })
  const unfinished = await waitForDrain(sql, zapId)
  const statements = (await statementsRun(sql)) - statementsBefore
  await expectStored(sql, zapId, load.accepted)
  const [summary] = await sql<{ failed: number; spanMs: number }[]>`
    select count(*) filter (where status = 'failed')::int as failed,
      extract(epoch from max(finished_at) - min(created_at))::float8 * 1000 as "spanMs"
    from runs where zap_id = ${zapId}`
  const latencies = (await sql<{ ms: number }[]>`
    select extract(epoch from finished_at - created_at)::float8 * 1000 as ms
    from runs where zap_id = ${zapId} and status = 'succeeded' order by 1`).map((row) => row.ms)
  return {
    offeredRate: options.rate ?? 'max',
    accepted: load.accepted,
    completed: latencies.length,
    failed: summary!.failed,
    unfinished,
    runsPerSecond: latencies.length / (summary!.spanMs / 1000),
    p50: percentile(latencies, 50),
    p95: percentile(latencies, 95),
    p99: percentile(latencies, 99),
    statementsPerRun: statements / load.accepted,
  }
}

async function statementsRun(sql: Sql) {
  const [row] = await sql<{ calls: number }[]>`select coalesce(sum(calls), 0)::float8 as calls from pg_stat_statements`
  return row!.calls
}

/** Waits until no run of the zap is queued or running; returns how many still are at the timeout. */
async function waitForDrain(sql: Sql, zapId: string) {
  const open = async () => {
    const [row] = await sql<{ open: number }[]>`select count(*)::int as open from runs where zap_id = ${zapId} and status in ('queued', 'running')`
    return row!.open
  }
  await waitFor(async () => (await open()) === 0, drainTimeoutMs)
  return open()
}

/** A constant arrival rate from a separate process, so the bench's own event loop does not pace it. */
async function paced(url: string, rate: number, amount: number): Promise<PacedResult> {
  const child = Bun.spawn([process.execPath, join(import.meta.dir, 'paced.ts'), url, String(rate), String(amount), webhookBody], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`the paced load exited with ${exitCode}: ${stderr.slice(-500)}`)
  return JSON.parse(stdout.trim().split('\n').at(-1)!)
}
