import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { mkdtemp, rm, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import type { Sql } from '@zap/sql/db'
import { expectStored, webhookBody, type Throughput } from './ingestion.ts'
import { percentile } from './stats.ts'

export type PgbenchResult = Throughput | { skipped: string }

/**
 * The rate PostgreSQL itself commits the run + outbox statement at, one webhook per transaction,
 * from `pgbench` with `clients` connections: the ceiling for storing webhooks one by one.
 */
export async function measurePgbench(sql: Sql, databaseUrl: string, zapId: string, clients: number, seconds: number): Promise<PgbenchResult> {
  const pgbench = findPgbench()
  if (!pgbench) return { skipped: 'pgbench was not found (on PATH or in /usr/lib/postgresql/*/bin); install postgresql-contrib or postgresql-client' }
  const dir = await mkdtemp(join(tmpdir(), 'zap-bench-pgbench-'))
  try {
    const script = join(dir, 'accept-run.sql')
    await writeFile(script, acceptRunStatement(zapId))
    const args = ['-n', '-M', 'prepared', '-c', String(clients), '-j', '2', '-T', String(seconds), '-f', script, '-l', '--log-prefix', join(dir, 'latency')]
    // libpq takes the whole URL where the database name goes.
    const child = Bun.spawn([pgbench, ...args, databaseUrl], { stdout: 'pipe', stderr: 'pipe' })
    const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
    if (exitCode !== 0) throw new Error(`pgbench exited with ${exitCode}: ${(stderr || stdout).slice(-500)}`)
    const committed = Number(stdout.match(/number of transactions actually processed: (\d+)/)?.[1])
    // Its own rate leaves out the time its clients took to connect.
    const perSecond = Number(stdout.match(/tps = ([\d.]+) \(without initial connection time\)/)?.[1])
    await expectStored(sql, zapId, committed)
    const latencies = readLatencies(dir)
    return { accepted: committed, rejected: 0, perSecond, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
  } finally {
    await rm(dir, { recursive: true, force: true })
  }
}

function findPgbench() {
  const versions = existsSync('/usr/lib/postgresql') ? readdirSync('/usr/lib/postgresql').sort((a, b) => Number(b) - Number(a)) : []
  const installed = versions.map((version) => `/usr/lib/postgresql/${version}/bin/pgbench`).find((path) => existsSync(path))
  return installed ?? Bun.which('pgbench')
}

// The statement acceptRun sends for a zap without verification, debounce or concurrency limit, with the bench's webhook.
const acceptRunStatement = (zapId: string) => {
  const headers = { host: 'localhost', 'content-type': 'application/json', 'content-length': String(webhookBody.length) }
  return `with zap as (
  select id, user_id, version, enabled from zaps where id = '${zapId}' and deleted_at is null
), run as (
  insert into runs (id, zap_id, user_id, version, trigger_body, trigger_content_type, trigger_headers, trigger_query, idempotency_key)
  select gen_random_uuid(), z.id, z.user_id, z.version, '${webhookBody}'::jsonb, 'application/json', '${JSON.stringify(headers)}'::jsonb, '{}'::jsonb, null
  from zap z where z.enabled
  returning id
), queued as (
  insert into outbox (run_id, step_index) select id, 0 from run
)
select enabled, (select id from run) as run_id from zap;
`
}

/** Per-transaction latencies from pgbench's logs (`client transaction latency_us ...`), in milliseconds, sorted. */
function readLatencies(dir: string) {
  return readdirSync(dir)
    .filter((name) => name.startsWith('latency'))
    .flatMap((name) => readFileSync(join(dir, name), 'utf8').trim().split('\n'))
    .map((line) => Number(line.split(' ')[2]) / 1000)
    .filter((ms) => Number.isFinite(ms))
    .sort((a, b) => a - b)
}
