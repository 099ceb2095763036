import { parseArgs } from 'node:util'
import { mkdirSync, writeFileSync } from 'node:fs'
import { join } from 'node:path'
import { settleTables, startStack, type Stack } from './stack.ts'
import { combined, measureBaseline, measureIngestion, type Throughput } from './ingestion.ts'
import { measureEndToEnd, type EndToEnd } from './end-to-end.ts'
import { findDescendant, parentOf, readAll, watchPeaks, type Measured, type Usage } from './resources.ts'
import { createBenchZap, httpStep } from './zaps.ts'
import { measurePeer } from './peer.ts'
import { measurePgbench } from './pgbench.ts'
import { printReport, type IngestionRound, type Results } from './report.ts'
import { generateLoad } from './load.ts'
import { webhookBody } from './ingestion.ts'
import { measureIngestionWhilePruning } from './retention.ts'
import { checkoutOf, measureAgainst } from './against.ts'
import { chunkSize, drainBacklog, generateHistory, type History } from './history.ts'
import { measureScheduleLateness } from './schedules.ts'

const usage = `bun run bench [--duration SECONDS] [--history RUNS] [--schedules ZAPS] [--no-peer] [--against GIT-REF]

Starts PostgreSQL (durable), Kafka, api, hooks, processor, worker and a sink, then measures ingestion
(against the same insert through postgres.js and through pgbench), end to end at 500/s, 2,000/s and the maximum rate,
memory and CPU per service, and n8n (installed into .cache/n8n) on the same workloads. Then it stores RUNS
finished runs in SQL and measures ingestion and end to end again, and the drain of a 20k and a 200k outbox backlog.
  --duration SECONDS  length of each measured load (default 20)
  --history RUNS      runs stored before the large-history phase (default 5000000; 0 skips the phase)
  --schedules ZAPS    zaps on an every-minute schedule whose ticks' lateness is measured with two
                      processors, against one zap alone (default 10000; 0 skips the phase, about 5 minutes)
  --no-peer           skip n8n
  --against GIT-REF   also measure end to end at the maximum rate with the hooks, processor and worker of
                      that commit (checked out into .cache/bench-against), alternating with this checkout's
                      in two rounds each on the same stack, and report the ratio`

const { values: flags } = parseArgs({ options: { duration: { type: 'string', default: '20' }, history: { type: 'string', default: '5000000' }, schedules: { type: 'string', default: '10000' }, 'no-peer': { type: 'boolean', default: false }, against: { type: 'string' }, help: { type: 'boolean', default: false } } })
if (flags.help) {
  console.log(usage)
  process.exit(0)
}
const seconds = Number(flags.duration)
if (!Number.isInteger(seconds) || seconds < 1) {
  console.error(`Expected --duration to be a whole number of seconds, got ${flags.duration}\n\n${usage}`)
  process.exit(2)
}
const historyRuns = Number(flags.history)
if (!Number.isInteger(historyRuns) || historyRuns < 0) {
  console.error(`Expected --history to be a whole number of runs (0 skips the phase), got ${flags.history}\n\n${usage}`)
  process.exit(2)
}

const scheduledZaps = Number(flags.schedules)
if (!Number.isInteger(scheduledZaps) || scheduledZaps < 0) {
  console.error(`Expected --schedules to be a whole number of zaps (0 skips the phase), got ${flags.schedules}\n\n${usage}`)
  process.exit(2)
}

const connections = 50
const ingestionRoundCount = 2
const prunedRuns = 100_000
const rates = [500, 2000]
const backlogs = [20_000, 200_000]
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
  stack.services.processor.process.kill('SIGSTOP')
  const warm = await warmUpIngestion(hooksUrl, await newZap('warm-up'))
  const perRound = Math.ceil(warm.perSecond * seconds)
  // The machine's speed drifts by a quarter within minutes: alternating rounds give each the same conditions.
  const ingestionRounds: IngestionRound[] = []
  for (let round = 1; round <= ingestionRoundCount; round++) {
    log(`ingestion, round ${round} of ${ingestionRoundCount}: ${connections} connections for ${seconds}s, then the same insert through postgres.js and through pgbench`)
    ingestionRounds.push({
      hooks: await measureIngestion(stack.sql, hooksUrl, await newZap(`ingestion ${round}`), connections, perRound),
      baseline: await measureBaseline(stack.postgres.url, await newZap(`baseline ${round}`), connections, seconds, 10),
      pgbench: await measurePgbench(stack.sql, stack.postgres.url, await newZap(`pgbench ${round}`), connections, seconds),
    })
  }
  const ingestion = combined(ingestionRounds.map((round) => round.hooks))
  const baseline = combined(ingestionRounds.map((round) => round.baseline))
  const pgbenchRounds = ingestionRounds.map((round) => round.pgbench)
  const pgbench = pgbenchRounds.every((round): round is Throughput => !('skipped' in round)) ? combined(pgbenchRounds) : pgbenchRounds[0]!
  log(`ingestion again while the retention job prunes ${prunedRuns.toLocaleString('en-US')} old runs`)
  const whilePruning = await measureIngestionWhilePruning(stack.sql, stack.postgres.url, hooksUrl, { old: await newZap('old runs'), load: await newZap('ingestion while pruning') }, connections, perRound, prunedRuns)
  await resumeRelay(stack)

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
  const resources = resourceRows(idle, peaks.peaks, before, after, runs)
  const statements = await topStatements(stack)
  const schedules = scheduledZaps > 0
    ? await measureScheduleLateness(stack.sql, await createBenchZap(apiUrl, 'scheduled', [{ type: 'log', config: { message: 'tick' } }]), scheduledZaps, () => stack.startAnother('processor'), log)
    : { skipped: 'skipped with --schedules 0' }
  if ('alone' in schedules) await settleTables(stack.sql)
  const peer = flags['no-peer'] ? { skipped: 'skipped with --no-peer' } : await measurePeer({ connections, seconds, rates, log })
  const history = historyRuns > 0
    ? await measureHistory(stack, newZap, { ingestion: perRound, endToEnd: endToEnd.at(-1)!.accepted })
    : { skipped: 'skipped with --history 0' }
  return {
    startedAt: new Date().toISOString(),
    machine: { cores: navigator.hardwareConcurrency, bun: Bun.version },
    seconds,
    connections,
    ingestion,
    baseline,
    pgbench,
    ingestionRounds,
    whilePruning,
    endToEnd,
    resources,
    against,
    topStatements: statements,
    schedules,
    history,
    peer,
  }
}

/** The same ingestion and maximum-rate loads again on top of `historyRuns` stored runs, then the outbox backlogs. */
async function measureHistory(stack: Stack, newZap: (name: string) => Promise<string>, amounts: { ingestion: number; endToEnd: number }): Promise<History> {
  const hooksUrl = stack.services.hooks.url!
  log(`history: storing ${historyRuns.toLocaleString('en-US')} finished runs in SQL, ${chunkSize.toLocaleString('en-US')} per statement`)
  const [owner] = await stack.sql<{ userId: string }[]>`select user_id as "userId" from zaps where id = ${await newZap('history owner')}`
  const stored = await generateHistory(stack.sql, owner!.userId, historyRuns, log)
  await stack.sql`select pg_stat_statements_reset()`
  log(`history: ingestion over ${stored.runs.toLocaleString('en-US')} runs`)
  stack.services.processor.process.kill('SIGSTOP')
  // Warmed up as the empty tables' ingestion is: straight after the bulk load the first seconds ran
  // 7% slower (7,836/s, then 8,413-8,659/s against 8,377-8,566/s on empty tables, one lab run).
  await warmUpIngestion(hooksUrl, await newZap('history warm-up'))
  const ingestion = await measureIngestion(stack.sql, hooksUrl, await newZap('history ingestion'), connections, amounts.ingestion)
  await resumeRelay(stack)
  log('history: end to end at the maximum rate')
  const endToEnd = await measureEndToEnd(stack.sql, hooksUrl, await newZap('history e2e max'), { connections, amount: amounts.endToEnd })
  const drains = []
  for (const backlog of backlogs) {
    log(`history: draining an outbox backlog of ${backlog.toLocaleString('en-US')} runs`)
    const pids = { processor: stack.services.processor.process.pid, worker: stack.services.worker.process.pid }
    drains.push(await drainBacklog(stack.sql, await newZap(`backlog ${backlog}`), backlog, pids))
  }
  return { ...stored, ingestion, endToEnd, drains, topStatements: await topStatements(stack) }
}

/** A few seconds of webhooks before an ingestion is measured, so caches and plans are warm. */
function warmUpIngestion(hooksUrl: string, zapId: string) {
  return generateLoad({ url: `${hooksUrl}/hooks/${zapId}`, connections, seconds: Math.min(3, seconds), body: webhookBody })
}

/** Ends an ingestion phase: drops the outbox rows it left for the paused relay, settles the tables, and lets the relay go on. */
async function resumeRelay(stack: Stack) {
  await stack.sql`delete from outbox`
  await settleTables(stack.sql)
  stack.services.processor.process.kill('SIGCONT')
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
