import { parseArgs } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { startStack, type Stack } from './stack.ts'
import { measureBaseline, measureIngestion } from './ingestion.ts'
import { measureEndToEnd, type EndToEnd } from './end-to-end.ts'
import { findDescendant, parentOf, readAll, watchPeaks, type Measured, type Usage } from './resources.ts'
import { createBenchZap, httpStep } from './zaps.ts'
import { measurePeer } from './peer.ts'
import { measurePgbench } from './pgbench.ts'
import { printReport, type Results } from './report.ts'
import { generateLoad } from './load.ts'
import { webhookBody } from './ingestion.ts'
import { measureIngestionWhilePruning } from './retention.ts'
import { checkoutOf, measureAgainst } from './against.ts'

const usage = `bun run bench [--duration SECONDS] [--no-peer] [--against GIT-REF]

Starts PostgreSQL (durable), Kafka, api, hooks, processor, worker and a sink, then measures ingestion
(against the same insert through postgres.js and through pgbench), end to end at 500/s, 2,000/s and the maximum rate,
memory and CPU per service, and n8n (installed into .cache/n8n) on the same workloads.
  --duration SECONDS  length of each measured load (default 20)
  --no-peer           skip n8n
  --against GIT-REF   also measure end to end at the maximum rate with the hooks, processor and worker of
                      that commit (checked out into .cache/bench-against), alternating with this checkout's
                      in two rounds each on the same stack, and report the ratio`

const { values: flags } = parseArgs({ options: { duration: { type: 'string', default: '20' }, 'no-peer': { type: 'boolean', default: false }, against: { type: 'string' }, help: { type: 'boolean', default: false } } })
if (flags.help) {
  console.log(usage)
  process.exit(0)
}
const seconds = Number(flags.duration)
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error(`Expected --duration to be a whole number of seconds, got ${flags.duration}\n\n${usage}`)
  process.exit(2)
}

const connections = 50
const prunedRuns = 100_000
const rates = [500, 2000]
const log = (line: string) => console.error(`[bench] ${line}`)

const againstCheckout = flags.against ? await checkoutOf(flags.against, log) : null
const stack = await startStack(log)
for (const signal of ['SIGINT', 'SIGTERM'] as const) process.once(signal, () => void stack.stop().finally(() => process.exit(130)))
try {
  const results = await measure(stack)
  const path = join(import.meta.dir, '..', '..', 'bench-results', `${new Date().toISOString().replace(/[:.]/g, '-')}.json`)
  mkdirSync(join(path, '..'), { recursive: true })
  writeFileSync(path, JSON.stringify(results, null, 2))
  printReport(results)
  console.log(`\nResults written to ${path}`)
} finally {
  await stack.stop()
}

async function measure(stack: Stack): Promise<Results> {
  const hooksUrl = stack.services.hooks.url!
  const apiUrl = stack.services.api.url!
  const measured = await measuredProcesses(stack)
  const newZap = (name: string) => createBenchZap(apiUrl, name, [httpStep(stack.sink.url)])
  await Bun.sleep(2000)
  const idle = readAll(measured)
  const peaks = watchPeaks(measured)

  // Ingestion is hooks and PostgreSQL alone: the relay pauses, and the outbox rows it would relay are dropped after counting.
  log(`ingestion: ${connections} connections for ${seconds}s, then the same insert through postgres.js and through pgbench`)
  stack.services.processor.process.kill('SIGSTOP')
  const warmup = await newZap('warm-up')
  const warm = await generateLoad({ url: `${hooksUrl}/hooks/${warmup}`, connections, seconds: Math.min(3, seconds), body: webhookBody })
  const ingestion = await measureIngestion(stack.sql, hooksUrl, await newZap('ingestion'), connections, Math.ceil(warm.perSecond * seconds))
  const baseline = await measureBaseline(stack.postgres.url, await newZap('baseline'), connections, seconds, 10)
  const pgbench = await measurePgbench(stack.sql, stack.postgres.url, await newZap('pgbench'), connections, seconds)
  log(`ingestion again while the retention job prunes ${prunedRuns.toLocaleString('en-US')} old runs`)
  const whilePruning = await measureIngestionWhilePruning(stack.sql, stack.postgres.url, hooksUrl, { old: await newZap('old runs'), load: await newZap('ingestion while pruning') }, connections, ingestion.accepted, prunedRuns)
  await stack.sql`delete from outbox`
  stack.services.processor.process.kill('SIGCONT')

  log('end to end: warming up the pipeline')
  await measureEndToEnd(stack.sql, hooksUrl, await newZap('warm-up e2e'), { rate: 200, connections, amount: 600 })
  const endToEnd: EndToEnd[] = []
  const before = readAll(measured)
  for (const rate of [...rates, undefined]) {
    log(`end to end at ${rate ? `${rate}/s` : 'the maximum rate'} for ${seconds}s`)
    endToEnd.push(await measureEndToEnd(stack.sql, hooksUrl, await newZap(`e2e ${rate ?? 'max'}`), { rate, connections, amount: Math.round((rate ?? ingestion.perSecond) * seconds) }))
  }
  const after = readAll(measured)
  peaks.stop()
  const runs = endToEnd.reduce((sum, phase) => sum + phase.completed, 0)
  const maxRate = async () => {
    await measureEndToEnd(stack.sql, hooksUrl, await newZap('warm-up e2e'), { rate: 200, connections, amount: 400 })
    return measureEndToEnd(stack.sql, hooksUrl, await newZap('e2e max'), { connections, amount: Math.round(ingestion.perSecond * seconds) })
  }
  const against = againstCheckout ? await measureAgainst(stack, againstCheckout, 2, maxRate, log) : undefined
  const peer = flags['no-peer'] ? { skipped: 'skipped with --no-peer' } : await measurePeer({ connections, seconds, rates, log })
  return {
    startedAt: new Date().toISOString(),
    machine: { cores: navigator.hardwareConcurrency, bun: Bun.version },
    seconds,
    connections,
    ingestion,
    baseline,
    pgbench,
    whilePruning,
    endToEnd,
    resources: resourceRows(idle, peaks.peaks, before, after, runs),
    against,
    topStatements: await topStatements(stack),
    peer,
  }
}

async function measuredProcesses(stack: Stack): Promise<Measured> {
  const [backend] = await stack.sql<{ pid: number }[]>`select pg_backend_pid() as pid`
  const kafka = findDescendant(process.pid, 'kafka.Kafka')
  return { pids: stack.pids, trees: { postgres: parentOf(backend!.pid), ...(kafka ? { kafka } : {}) } }
}

function resourceRows(idle: Record<string, Usage>, peaks: Record<string, number>, before: Record<string, Usage>, after: Record<string, Usage>, runs: number) {
  return Object.keys(idle).map((name) => ({
    name,
    idleRssMb: idle[name]!.rssMb,
    peakRssMb: peaks[name]!,
    cpuSecondsPer1000Runs: ((after[name]!.cpuSeconds - before[name]!.cpuSeconds) / runs) * 1000,
  }))
}

async function topStatements(stack: Stack) {
  return stack.sql<{ query: string; calls: number; meanMs: number; totalMs: number }[]>`
    select left(regexp_replace(query, '\\s+', ' ', 'g'), 160) as query, calls::int, mean_exec_time as "meanMs", total_exec_time as "totalMs"
    from pg_stat_statements order by total_exec_time desc limit 8`
}
