import { readdirSync, readFileSync } from 'node:fs'

const ticksPerSecond = 100

export type Usage = { rssMb: number; cpuSeconds: number }

/**
 * The processes measured under each name: a service is one pid (VmRSS), PostgreSQL and Kafka a tree,
 * whose memory is the sum of PSS, since PostgreSQL's backends all map the same shared buffers.
 */
export type Measured = { pids: Record<string, number>; trees: Record<string, number> }

/** Resident memory and CPU time (user + system) under each name, from /proc. */
export function readAll({ pids, trees }: Measured): Record<string, Usage> {
  const usage = Object.entries(pids).map(([name, pid]) => [name, sumUsage([pid], 'VmRSS')] as const)
  const children = Object.keys(trees).length ? childrenByParent() : new Map<number, number[]>()
  for (const [name, root] of Object.entries(trees)) usage.push([name, sumUsage([root, ...descendants(root, children)], 'Pss')])
  return Object.fromEntries(usage)
}

/** Samples RSS twice a second, keeping the peak under each name. */
export function watchPeaks(measured: Measured) {
  const peaks: Record<string, number> = {}
  const sample = () => {
    for (const [name, usage] of Object.entries(readAll(measured))) peaks[name] = Math.max(peaks[name] ?? 0, usage.rssMb)
  }
  sample()
  const timer = setInterval(sample, 500)
  return { peaks, stop: () => clearInterval(timer) }
}

/** The first process whose command line contains `text` and that descends from `ancestor`. */
export function findDescendant(ancestor: number, text: string) {
  return descendants(ancestor, childrenByParent()).find((pid) => readProc(pid, 'cmdline')?.includes(text))
}

export function parentOf(pid: number) {
  return Number(statFields(pid)?.[1])
}

function sumUsage(pids: number[], memory: 'VmRSS' | 'Pss'): Usage {
  let memoryKb = 0
  let ticks = 0
  for (const pid of pids) {
    const fields = statFields(pid)
    const status = readProc(pid, memory === 'VmRSS' ? 'status' : 'smaps_rollup')
    if (!fields || !status) continue
    ticks += Number(fields[11]) + Number(fields[12])
    memoryKb += Number(status.match(new RegExp(`^${memory}:\\s+(\\d+)`, 'm'))?.[1] ?? 0)
  }
  return { rssMb: memoryKb / 1024, cpuSeconds: ticks / ticksPerSecond }
}

function childrenByParent() {
  const children = new Map<number, number[]>()
  for (const entry of readdirSync('/proc')) {
    if (!/^\d+$/.test(entry)) continue
    const parent = parentOf(Number(entry))
    children.set(parent, [...(children.get(parent) ?? []), Number(entry)])
  }
  return children
}

function descendants(pid: number, children: Map<number, number[]>): number[] {
  return (children.get(pid) ?? []).flatMap((child) => [child, ...descendants(child, children)])
}

// Fields after the command name: [0] is state, [1] the parent, [11] utime, [12] stime.
function statFields(pid: number) {
  const stat = readProc(pid, 'stat')
  return stat ? stat.slice(stat.lastIndexOf(')') + 2).split(' ') : null
}

function readProc(pid: number, file: string) {
  try {
    return readFileSync(`/proc/${pid}/${file}`, 'utf8')
  } catch {
    return null
  }
}
