import type { Throughput } from './ingestion.ts'
import type { PruneImpact } from './retention.ts'
import type { EndToEnd } from './end-to-end.ts'
import type { PeerResult } from './peer.ts'
import type { PgbenchResult } from './pgbench.ts'
import type { Against } from './against.ts'
import type { History, HistorySkipped } from './history.ts'
import type { ScheduleLateness, TickLateness } from './schedules.ts'
import { round } from './stats.ts'

export type TopStatement = { query: string; calls: number; meanMs: number; totalMs: number }

export type ResourceRow = { name: string; idleRssMb: number; peakRssMb: number; cpuSecondsPer1000Runs: number }

/** One round of the ingestion phase: hooks, then the same insert through postgres.js and through pgbench. */
export type IngestionRound = { hooks: Throughput; baseline: Throughput; pgbench: PgbenchResult }

export type Results = {
  startedAt: string
  machine: { cores: number; bun: string }
  seconds: number
  connections: number
  ingestion: Throughput
  baseline: Throughput
  whilePruning: PruneImpact
  pgbench: PgbenchResult
  /** `ingestion`, `baseline` and `pgbench` are these rounds together. */
  ingestionRounds: IngestionRound[]
  endToEnd: EndToEnd[]
  resources: ResourceRow[]
  against?: Against
  topStatements: TopStatement[]
  schedules: ScheduleLateness | { skipped: string }
  history: History | HistorySkipped
  peer: PeerResult
}

export type Target = { name: string; met: boolean; measured: string }

const services = ['api', 'hooks', 'processor', 'worker']

export function evaluateTargets({ ingestion, baseline, pgbench, whilePruning, endToEnd, resources, against, history, peer }: Results): Target[] {
  const at500 = endToEnd.find((phase) => phase.offeredRate === 500)!
  const allPhases = [...endToEnd, ...(against ? [...against.theirs, ...against.ours] : [])]
  const sustained = Math.max(...endToEnd.map((phase) => (phase.unfinished === 0 ? phase.runsPerSecond : 0)))
  const heaviest = resources.filter((row) => services.includes(row.name)).sort((a, b) => b.peakRssMb - a.peakRssMb)[0]!
  const targets: Target[] = [
    { name: 'ingestion >= 10,000 webhooks/s', met: ingestion.perSecond >= 10_000, measured: `${count(ingestion.perSecond)}/s` },
    { name: 'ingestion >= 2x postgres.js baseline', met: ingestion.perSecond >= 2 * baseline.perSecond, measured: ratio(ingestion.perSecond, baseline.perSecond) },
    ...('skipped' in pgbench ? [] : [{ name: 'ingestion >= 1x pgbench, same statement', met: ingestion.perSecond >= pgbench.perSecond, measured: ratio(ingestion.perSecond, pgbench.perSecond) }]),
    { name: 'ingestion p99 < 25 ms', met: ingestion.p99 < 25, measured: `${round(ingestion.p99)} ms` },
    { name: 'ingestion while pruning >= 0.9x ingestion', met: whilePruning.ingestion.perSecond >= 0.9 * ingestion.perSecond, measured: ratio(whilePruning.ingestion.perSecond, ingestion.perSecond) },
    { name: 'end to end >= 2,000 runs/s sustained', met: sustained >= 2000, measured: `${count(sustained)}/s` },
    { name: 'end to end p50 < 25 ms at 500/s', met: at500.p50 < 25, measured: `${round(at500.p50)} ms` },
    { name: 'end to end p99 < 100 ms at 500/s', met: at500.p99 < 100, measured: `${round(at500.p99)} ms` },
    ...(against ? [{ name: `end to end >= 2x ${against.ref}, same run`, met: meanRate(against.ours) >= 2 * meanRate(against.theirs), measured: ratio(meanRate(against.ours), meanRate(against.theirs)) }] : []),
    { name: 'every run finished', met: allPhases.every((phase) => phase.unfinished === 0 && phase.failed === 0), measured: `${allPhases.reduce((sum, phase) => sum + phase.unfinished + phase.failed, 0)} left or failed` },
    { name: 'each service < 100 MB RSS at peak', met: heaviest.peakRssMb < 100, measured: `${heaviest.name} ${round(heaviest.peakRssMb)} MB` },
  ]
  if ('drains' in history) {
    const [small, large] = [history.drains[0]!, history.drains.at(-1)!]
    targets.push(
      { name: `ingestion, ${abbreviated(history.generated)} runs stored >= 0.9x empty`, met: history.ingestion.perSecond >= 0.9 * ingestion.perSecond, measured: ratio(history.ingestion.perSecond, ingestion.perSecond) },
      { name: `end to end, ${abbreviated(history.generated)} stored >= 0.9x empty`, met: history.endToEnd.runsPerSecond >= 0.9 * endToEnd.at(-1)!.runsPerSecond, measured: ratio(history.endToEnd.runsPerSecond, endToEnd.at(-1)!.runsPerSecond) },
      { name: `outbox drain, ${abbreviated(large.backlog)} >= 0.9x ${abbreviated(small.backlog)} rows`, met: large.outboxPerSecond >= 0.9 * small.outboxPerSecond, measured: ratio(large.outboxPerSecond, small.outboxPerSecond) },
      { name: `processor peak, ${abbreviated(large.backlog)} <= 1.1x ${abbreviated(small.backlog)} rows`, met: large.processorPeakMb <= 1.1 * small.processorPeakMb, measured: ratio(large.processorPeakMb, small.processorPeakMb) },
      { name: 'every backlog run finished', met: history.drains.every((drain) => drain.unfinished === 0 && drain.failed === 0) && history.endToEnd.unfinished === 0, measured: `${history.drains.reduce((sum, drain) => sum + drain.unfinished + drain.failed, history.endToEnd.unfinished + history.endToEnd.failed)} left or failed` },
    )
  }
  if ('ingestion' in peer) {
    const peerMax = peer.endToEnd.at(-1)!
    targets.push(
      { name: '>= 10x n8n ingestion', met: ingestion.perSecond >= 10 * peer.ingestion.perSecond, measured: ratio(ingestion.perSecond, peer.ingestion.perSecond) },
      { name: '>= 10x n8n end to end', met: endToEnd.at(-1)!.runsPerSecond >= 10 * peerMax.perSecond, measured: ratio(endToEnd.at(-1)!.runsPerSecond, peerMax.perSecond) },
    )
  }
  return targets
}

const listed = (rounds: Throughput[]) => rounds.map((round) => count(round.perSecond)).join(', ')

export function printReport(results: Results) {
  const { ingestion, baseline, pgbench, whilePruning, endToEnd, resources, peer } = results
  const lines = [
    `zap benchmark: ${results.machine.cores} cores, Bun ${results.machine.bun}, ${results.seconds}s per load, ${results.connections} connections`,
    '',
    table(['Ingestion', 'accepted', 'per s', 'p50 ms', 'p99 ms'], [
      ['POST /hooks/:zapId', count(ingestion.accepted), count(ingestion.perSecond), round(ingestion.p50), round(ingestion.p99)],
      ['same insert, postgres.js', count(baseline.accepted), count(baseline.perSecond), round(baseline.p50), round(baseline.p99)],
      ['ratio hooks / baseline', '', ratio(ingestion.perSecond, baseline.perSecond), '', ''],
      ...('skipped' in pgbench
        ? [['same statement, pgbench', 'not measured', '', '', '']]
        : [
          ['same statement, pgbench', count(pgbench.accepted), count(pgbench.perSecond), round(pgbench.p50), round(pgbench.p99)],
          ['ratio hooks / pgbench', '', ratio(ingestion.perSecond, pgbench.perSecond), '', ''],
        ]),
      [`while pruning ${count(whilePruning.seeded)} old runs`, count(whilePruning.ingestion.accepted), count(whilePruning.ingestion.perSecond), round(whilePruning.ingestion.p50), round(whilePruning.ingestion.p99)],
    ]),
    `  ${results.ingestionRounds.length} alternating rounds, per s: hooks ${listed(results.ingestionRounds.map((round) => round.hooks))}; postgres.js ${listed(results.ingestionRounds.map((round) => round.baseline))}${'skipped' in pgbench ? '' : `; pgbench ${listed(results.ingestionRounds.map((round) => round.pgbench as Throughput))}`}`,
    '  rates are all the rounds\' webhooks over all their time; latencies are the worst round\'s',
    ...('skipped' in pgbench ? [`  pgbench: ${pgbench.skipped}`] : []),
    `  the retention job deleted ${count(whilePruning.prunedDuringLoad)} runs during that load and all ${count(whilePruning.seeded)} in ${round(whilePruning.pruneSeconds)} s (500 per transaction, resting 3x each batch's time)`,
    '',
    table(['End to end (accepted -> succeeded)', 'accepted', 'runs/s', 'p50 ms', 'p95 ms', 'p99 ms', 'statements / run', 'failed', 'unfinished'],
      endToEnd.map((phase) => [phase.offeredRate === 'max' ? 'max rate' : `${count(phase.offeredRate)}/s offered`, count(phase.accepted), count(phase.runsPerSecond), round(phase.p50), round(phase.p95), round(phase.p99), round(phase.statementsPerRun, 2), phase.failed, phase.unfinished])),
    '',
    table(['Resources', 'idle MB', 'peak MB', 'CPU s / 1,000 runs'],
      resources.map((row) => [row.name, round(row.idleRssMb), round(row.peakRssMb), round(row.cpuSecondsPer1000Runs, 2)])),
    '  memory: VmRSS for a service; PSS summed over the process tree for postgres and kafka. CPU: over the end-to-end loads.',
    '',
    ...againstLines(results),
    ...scheduleLines(results),
    ...historyLines(results),
    '',
    ...peerLines(results),
    '',
    'Targets',
    ...evaluateTargets(results).map((target) => `  ${target.met ? 'PASS' : 'MISS'}  ${target.name.padEnd(42)} ${target.measured}`),
  ]
  console.log(lines.join('\n'))
}

function againstLines({ against }: Results) {
  if (!against) return []
  const rows = (name: string, phases: EndToEnd[]) =>
    phases.map((phase, index) => [`${name}, round ${index + 1}`, count(phase.accepted), count(phase.runsPerSecond), round(phase.p50), round(phase.p99), round(phase.statementsPerRun, 2), phase.failed + phase.unfinished])
  return [
    table([`Max rate against ${against.ref} (${against.commit.slice(0, 7)})`, 'accepted', 'runs/s', 'p50 ms', 'p99 ms', 'statements / run', 'left or failed'], [
      ...rows(against.ref, against.theirs),
      ...rows('this checkout', against.ours),
      ['ratio of the means', '', ratio(meanRate(against.ours), meanRate(against.theirs)), '', '', '', ''],
    ]),
    '',
  ]
}

function scheduleLines({ schedules }: Results) {
  if (!('alone' in schedules)) return [`Schedules: not measured: ${schedules.skipped}`, '']
  const row = (name: string, lateness: TickLateness) => [name, count(lateness.schedules), `${count(lateness.runs)} of ${count(lateness.schedules * lateness.ticks)}`, round(lateness.p50), round(lateness.p99), round(lateness.max)]
  return [
    table(['Schedules: a run stored after its tick (every minute)', 'zaps', 'runs', 'p50 ms', 'p99 ms', 'max ms'], [
      row('one zap alone', schedules.alone),
      row(`all, ${schedules.processors} processors`, schedules.many),
    ]),
    `  the due-ticks claim: ${count(schedules.claimCalls)} calls, ${round(schedules.claimMeanMs, 2)} ms each on average (pg_stat_statements)`,
    '',
  ]
}

const meanRate = (phases: EndToEnd[]) => phases.reduce((sum, phase) => sum + phase.runsPerSecond, 0) / phases.length

function historyLines({ ingestion, endToEnd, history }: Results) {
  if (!('drains' in history)) return [`Large history: not measured: ${history.skipped}`]
  const empty = endToEnd.at(-1)!
  return [
    table([`Large history: ${count(history.generated)} runs generated (${count(history.runs)} stored, ${count(history.steps)} steps)`, 'empty', 'history', 'history / empty', 'history p50 ms', 'history p99 ms'], [
      ['ingestion per s', count(ingestion.perSecond), count(history.ingestion.perSecond), ratio(history.ingestion.perSecond, ingestion.perSecond), round(history.ingestion.p50), round(history.ingestion.p99)],
      ['end to end, max rate, runs/s', count(empty.runsPerSecond), count(history.endToEnd.runsPerSecond), ratio(history.endToEnd.runsPerSecond, empty.runsPerSecond), round(history.endToEnd.p50), round(history.endToEnd.p99)],
    ]),
    `  generated in SQL in ${round(history.generateSeconds)} s (${count(history.generated / history.generateSeconds)} runs/s), VACUUM ANALYZE and CHECKPOINT ${round(history.vacuumSeconds)} s, ${count(history.sizeMb)} MB with indexes`,
    '',
    table(['Outbox backlog (one-step runs)', 'rows', 'outbox s', 'relayed/s', 'runs/s', 'processor idle MB', 'processor peak MB', 'worker peak MB'],
      history.drains.map((drain) => ['queued at once', count(drain.backlog), round(drain.outboxSeconds), count(drain.outboxPerSecond), count(drain.runsPerSecond), round(drain.processorIdleMb), round(drain.processorPeakMb), round(drain.workerPeakMb)])),
  ]
}

function peerLines({ ingestion, endToEnd, peer }: Results) {
  if (!('ingestion' in peer)) return [`Peer: n8n not measured: ${peer.skipped}`]
  return [
    table([`Peer: n8n ${peer.version}`, 'n8n per s', 'n8n p50 ms', 'n8n p99 ms', 'zap / n8n'], [
      ['ingestion (webhook answered)', count(peer.ingestion.perSecond), round(peer.ingestion.p50), round(peer.ingestion.p99), ratio(ingestion.perSecond, peer.ingestion.perSecond)],
      ...peer.endToEnd.map((phase, index) => [
        `end to end, ${phase.offeredRate === 'max' ? 'max rate' : `${phase.offeredRate}/s offered`}`,
        count(phase.perSecond), round(phase.p50), round(phase.p99), ratio(endToEnd[index]?.runsPerSecond ?? NaN, phase.perSecond),
      ]),
    ]),
    `  n8n peak memory ${round(peer.peakRssMb)} MB (PSS of its process tree). ${peer.note}`,
  ]
}

function table(header: string[], rows: (string | number)[][]) {
  const cells = [header, ...rows].map((row) => row.map(String))
  const widths = header.map((_, column) => Math.max(...cells.map((row) => row[column]!.length)))
  return cells.map((row) => row.map((cell, column) => (column === 0 ? cell.padEnd(widths[column]!) : cell.padStart(widths[column]!))).join('  ')).join('\n')
}

const abbreviated = (value: number) => (value >= 1_000_000 ? `${round(value / 1_000_000)}M` : value >= 1000 ? `${round(value / 1000)}k` : count(value))
const count = (value: number) => (Number.isFinite(value) ? Math.round(value).toLocaleString('en-US') : 'n/a')
const ratio = (ours: number, theirs: number) => (theirs > 0 && Number.isFinite(ours) ? `${round(ours / theirs, 2)}x` : 'n/a')
