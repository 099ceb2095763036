import { afterAll, expect, test } from 'bun:test'
import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { freePort, waitUntil } from '@zap/testkit/services'

const dirs: string[] = []
afterAll(async () => {
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
})

test('zap dev starts the whole system in one process and stops cleanly on Ctrl-C', async () => {
  const dataDir = await mkdtemp(join(tmpdir(), 'zap-cli-dev-'))
  dirs.push(dataDir)
  await chmod(dataDir, 0o755)
  const [apiPort, hooksPort] = [await freePort(), await freePort()]
  const { DATABASE_URL, KAFKA_BROKERS, ...env } = Bun.env
  const child = Bun.spawn(['bun', join(import.meta.dir, 'bin.ts'), 'dev'], {
    env: { ...env, ZAP_DATA_DIR: dataDir, API_PORT: String(apiPort), HOOKS_PORT: String(hooksPort) },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let output = ''
  void (async () => {
    for await (const chunk of child.stdout) output += new TextDecoder().decode(chunk)
  })()
  await waitUntil(() => output.includes('zap is ready'), () => `zap dev to be ready:\n${output}`, 60_000)
  expect(output).toContain(`http://localhost:${hooksPort}/hooks/<zapId>`)
  // Run as `zap dev`, its hints say `zap`, not the checkout's `bun zap`.
  expect(output).toMatch(new RegExp(`^Next: zap signup --api http://localhost:${apiPort}$`, 'm'))
  expect((await fetch(`http://127.0.0.1:${apiPort}/readyz`)).status).toBe(200)
  expect((await fetch(`http://127.0.0.1:${hooksPort}/readyz`)).status).toBe(200)
  child.kill('SIGINT')
  expect(await child.exited).toBe(0)
  expect(await fetch(`http://127.0.0.1:${apiPort}/healthz`).catch(() => 'down')).toBe('down')
}, 90_000)
