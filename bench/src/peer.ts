import { generateLoad } from './load.ts'
import { webhookBody } from './ingestion.ts'
import { installN8n, n8nVersion, startN8n, type Execution } from './n8n.ts'
import { readAll } from './resources.ts'
import { percentile } from './stats.ts'
import { waitFor } from './wait.ts'

export type PeerPhase = { offeredRate: number | 'max'; accepted: number; perSecond: number; p50: number; p99: number; unfinished: number }
export type PeerResult =
  | { skipped: string }
  | { version: string; ingestion: { perSecond: number; p50: number; p99: number }; endToEnd: PeerPhase[]; peakRssMb: number; note: string }

type PeerOptions = { connections: number; seconds: number; rates: number[]; log: (line: string) => void }

/** n8n on the same workloads: its webhook -> No Operation workflow, executions read from its SQLite database. */
export async function measurePeer(options: PeerOptions): Promise<PeerResult> {
  try {
    await installN8n(options.log)
    options.log(`starting n8n ${n8nVersion}`)
    const n8n = await startN8n()
    try {
      return await measureN8n(n8n, options)
    } finally {
      await n8n.stop()
    }
  } catch (error) {
    options.log(`n8n: ${(error as Error).message}`)
    return { skipped: (error as Error).message.split('\n')[0]! }
  }
}

async function measureN8n(n8n: Awaited<ReturnType<typeof startN8n>>, { connections, seconds, rates, log }: PeerOptions): Promise<PeerResult> {
  const load = (rate?: number) => generateLoad({ url: n8n.webhookUrl, connections, seconds, body: webhookBody, rate })
  let peakRssMb = 0
  const sampler = setInterval(() => (peakRssMb = Math.max(peakRssMb, readAll({ pids: {}, trees: { n8n: n8n.process.pid } }).n8n!.rssMb)), 500)
  try {
    log(`n8n ingestion: ${connections} connections for ${seconds}s`)
    await generateLoad({ url: n8n.webhookUrl, connections, seconds: Math.min(3, seconds), body: webhookBody })
    const ingestion = await load()
    const endToEnd: PeerPhase[] = []
    for (const rate of [...rates, undefined]) {
      log(`n8n end to end at ${rate ? `${rate}/s` : 'the maximum rate'} for ${seconds}s`)
      await settle(n8n)
      const lastId = n8n.lastExecutionId()
      const phase = await load(rate)
      const unfinished = await settle(n8n)
      endToEnd.push({ offeredRate: rate ?? 'max', accepted: phase.accepted, ...summarize(n8n.executions(lastId)), unfinished })
    }
    return {
      version: n8nVersion,
      ingestion: { perSecond: ingestion.perSecond, p50: ingestion.p50, p99: ingestion.p99 },
      endToEnd,
      peakRssMb,
      note: 'n8n answers its webhook before the execution is stored (zap: after the commit); its workflow ends in No Operation, zap\'s calls the sink.',
    }
  } finally {
    clearInterval(sampler)
  }
}

/** Waits (up to a minute) until every execution so far has stopped; returns how many have not. */
async function settle(n8n: Awaited<ReturnType<typeof startN8n>>) {
  await waitFor(() => n8n.unfinished() === 0, 60_000)
  return n8n.unfinished()
}

function summarize(executions: Execution[]) {
  const done = executions.filter((execution) => execution.stoppedMs !== null && execution.status === 'success')
  const latencies = done.map((execution) => execution.stoppedMs! - execution.createdMs).sort((a, b) => a - b)
  const spanMs = Math.max(...done.map((execution) => execution.stoppedMs!)) - Math.min(...done.map((execution) => execution.createdMs))
  return { perSecond: done.length / (spanMs / 1000), p50: percentile(latencies, 50), p99: percentile(latencies, 99) }
}
