import { afterAll, expect, test } from 'bun:test'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logStep, signedUpUser } from '@zap/testkit/cli'
import { freePort } from '@zap/testkit/services'
import { inTerminal, keys } from '@zap/testkit/terminal'

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

test('bun run dev in a terminal logs one line per webhook and per step, and none for the CLI’s requests and polls', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'zap-dev-logs-'))
  dirs.push(dataDir)
  await chmod(dataDir, 0o755)
  const [apiPort, hooksPort] = [await freePort(), await freePort()]
  // Its own embedded PostgreSQL: the suite's database holds other tests' unfinished runs, which dev would run and log.
  const { KAFKA_BROKERS, DATABASE_URL, ...env } = Bun.env as Record<string, string>
  const dev = inTerminal(`${process.execPath} ${join(import.meta.dir, 'main.ts')}`, { ...env, ZAP_DATA_DIR: dataDir, API_PORT: String(apiPort), HOOKS_PORT: String(hooksPort), PUBLIC_HOOKS_URL: `http://127.0.0.1:${hooksPort}` })
  try {
    await dev.waitFor('zap is ready', 60_000)
    const ready = dev.screen().length
    const ada = await signedUpUser(`http://127.0.0.1:${apiPort}`)
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Quiet', '--step', logStep()])
    const followed = await ada.zap(['trigger', zap.id, '--data', '{"name":"Ada"}', '--wait'])
    expect(followed.exitCode).toBe(0)
    await dev.waitFor('step succeeded')
    const lines = dev.screen().slice(ready).split(/\r?\n/).filter((line) => line.trim() !== '')
    expect(lines.filter((line) => line.includes(`/hooks/${zap.id}`))).toHaveLength(1)
    expect(lines.filter((line) => line.includes('step succeeded'))).toHaveLength(1)
    expect(lines.filter((line) => line.includes('/api/v1'))).toEqual([])
    expect(lines).toHaveLength(2)
  } finally {
    await dev.type(keys.ctrlC)
    expect(await dev.exited()).toBe(0)
  }
}, 90_000)
