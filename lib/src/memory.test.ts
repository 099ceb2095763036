import { expect, test } from 'bun:test'
import { join } from 'node:path'

// A process that keeps 40 MB of garbage coming and logs at debug, as a service would.
const script = (targetMb: number) => `
import { boundMemory } from ${JSON.stringify(join(import.meta.dir, 'memory.ts'))}
import { createLogger } from ${JSON.stringify(join(import.meta.dir, 'log.ts'))}
boundMemory(${targetMb}, createLogger('memory-test', { level: 'debug', pretty: false }))
const churn = setInterval(() => { globalThis.kept = Array.from({ length: 200_000 }, (_, i) => ({ i })) }, 50)
setTimeout(() => { clearInterval(churn); process.exit(0) }, 2_500)
`

async function linesOf(targetMb: number) {
  const child = Bun.spawn([process.execPath, '-e', script(targetMb)], { stdout: 'pipe', stderr: 'inherit' })
  const output = await new Response(child.stdout).text()
  expect(await child.exited).toBe(0)
  return output.split('\n').filter(Boolean).map((line) => JSON.parse(line))
}

test('past MEMORY_TARGET_MB a service collects garbage at once, at most once a second', async () => {
  const collected = (await linesOf(1)).filter((line) => line.msg === 'collected garbage past the memory target')
  expect(collected.length).toBeGreaterThanOrEqual(2)
  expect(collected.length).toBeLessThanOrEqual(3) // 2.5 s of churn
  for (const line of collected) expect(line).toMatchObject({ targetMb: 1, level: 'debug' })
  expect(Date.parse(collected[1].time) - Date.parse(collected[0].time)).toBeGreaterThanOrEqual(1_000)
})

test('MEMORY_TARGET_MB=0 never collects', async () => {
  expect((await linesOf(0)).filter((line) => line.msg === 'collected garbage past the memory target')).toHaveLength(0)
})
