import { readdirSync, readFileSync } from 'node:fs'

/**
 * Every process started by this one, however deep, carries `marker` in its environment: orphans
 * are re-parented away from us, but they keep the variable.
 */
export function markProcessTree() {
  const marker = `ZAP_TEST_RUN=${crypto.randomUUID()}`
  const [name, value] = marker.split('=') as [string, string]
  process.env[name] = value
  return marker
}

export type LeakedProcess = { pid: number; command: string }

/** Waits up to `graceMs` for the marked processes to exit, then kills and returns those still alive. */
export async function reapLeakedProcesses(marker: string, graceMs = 10_000): Promise<LeakedProcess[]> {
  const deadline = Date.now() + graceMs
  let alive = markedProcesses(marker)
  while (alive.length > 0 && Date.now() < deadline) {
    await Bun.sleep(200)
    alive = markedProcesses(marker)
  }
  for (const { pid } of alive) {
    try {
      process.kill(pid, 'SIGKILL')
    } catch {}
  }
  for (let waited = 0; waited < 5_000 && markedProcesses(marker).length > 0; waited += 100) await Bun.sleep(100)
  return alive
}

function markedProcesses(marker: string): LeakedProcess[] {
  if (process.platform !== 'linux') return markedProcessesFromPs(marker)
  const found: LeakedProcess[] = []
  for (const entry of readdirSync('/proc')) {
    const pid = Number(entry)
    if (!Number.isInteger(pid) || pid === process.pid) continue
    try {
      const environment = readFileSync(`/proc/${pid}/environ`, 'utf8').split('\0')
      if (!environment.includes(marker)) continue
      const command = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0').join(' ').trim()
      if (command !== '') found.push({ pid, command })
    } catch {
      // gone already, or not ours to read
    }
  }
  return found
}

// macOS and the BSDs print a process's environment after its command with `ps -E`/`e`.
function markedProcessesFromPs(marker: string): LeakedProcess[] {
  const listing = Bun.spawnSync(['ps', '-axeww', '-o', 'pid=,command=']).stdout.toString()
  return listing
    .split('\n')
    .filter((line) => line.includes(marker))
    .map((line) => {
      const [pid, ...command] = line.trim().split(/\s+/)
      return { pid: Number(pid), command: command.join(' ').split(' ZAP_TEST_RUN=')[0]! }
    })
    .filter(({ pid }) => pid !== process.pid)
}
