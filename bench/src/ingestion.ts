import { connect, type Sql } from '@zap/sql/db'
import { acceptRun } from '@zap/sql/runs'
import { generateLoad } from './load.ts'
import { percentile } from './stats.ts'

export const webhookBody = JSON.stringify({ event: 'order.created', orderId: 1234, amount: 42.5, currency: 'EUR' })

export type Throughput = { accepted: number; rejected: number; perSecond: number; p50: number; p99: number }

/** POSTs `amount` webhooks over `connections` connections; fails unless every 2xx is a stored run. */
export async function measureIngestion(sql: Sql, hooksUrl: string, zapId: string, connections: number, amount: number): Promise<Throughput> {
  const load = await generateLoad({ url: `${hooksUrl}/hooks/${zapId}`, connections, amount, body: webhookBody })
  await expectStored(sql, zapId, load.accepted)
  return { accepted: load.accepted, rejected: load.rejected + load.errors, perSecond: load.perSecond, p50: load.p50, p99: load.p99 }
}

/** The same transaction of one insert statement hooks runs, called straight through postgres.js with the hooks pool size. */
export async function measureBaseline(databaseUrl: string, zapId: string, concurrency: number, seconds: number, poolSize: number): Promise<Throughput> {
  const sql = connect(databaseUrl, { max: poolSize })
  const trigger = {
    body: JSON.parse(webhookBody),
    contentType: 'application/json',
    headers: { host: 'localhost', 'content-type': 'application/json', 'content-length': String(webhookBody.length) },
    query: {},
  }
  const latencies: number[] = []
  const until = performance.now() + seconds * 1000
  const caller = async () => {
    while (performance.now() < until) {
      const started = performance.now()
      const result = await sql.begin((tx) => acceptRun(tx, { zapId, trigger, idempotencyKey: null, verified: false }))
      if (result.outcome !== 'accepted') throw new Error(`Baseline insert answered ${result.outcome}`)
      latencies.push(performance.now() - started)
    }
  }
  try {
    await Promise.all(Array.from({ length: concurrency }, caller))
  } finally {
    await sql.end({ timeout: 5 })
  }
  latencies.sort((a, b) => a - b)
  return { accepted: latencies.length, rejected: 0, perSecond: latencies.length / seconds, p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}

/** Rounds of one measurement as one: all their webhooks over all the time they took, and the worst round's latencies. */
export function combined(rounds: Throughput[]): Throughput {
  const accepted = rounds.reduce((sum, round) => sum + round.accepted, 0)
  const seconds = rounds.reduce((sum, round) => sum + (round.perSecond > 0 ? round.accepted / round.perSecond : 0), 0)
  return {
    accepted,
    rejected: rounds.reduce((sum, round) => sum + round.rejected, 0),
    perSecond: seconds > 0 ? accepted / seconds : 0,
    p50: Math.max(...rounds.map((round) => round.p50)),
    p99: Math.max(...rounds.map((round) => round.p99)),
  }
}

export async function expectStored(sql: Sql, zapId: string, accepted: number) {
  const [row] = await sql<{ stored: number }[]>`select count(*)::int as stored from runs where zap_id = ${zapId}`
  if (row!.stored !== accepted) throw new Error(`${accepted} webhooks answered 2xx but ${row!.stored} runs are stored`)
}
