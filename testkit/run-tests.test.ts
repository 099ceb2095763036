import { expect, test } from 'bun:test'
import { join } from 'node:path'
import { waitUntil } from './services.ts'

const root = join(import.meta.dir, '..')

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

test('bun run test fails, names the process and kills it when a test leaves one running', async () => {
  const run = Bun.spawn(['bun', join(root, 'testkit', 'run-tests.ts'), './testkit/fixtures/leaves-a-process.fixture.ts'], { cwd: root, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(run.stdout).text(), new Response(run.stderr).text(), run.exited])
  const output = stdout + stderr
  const pid = Number(output.match(/left running: (\d+)/)?.[1])
  expect(output).toContain('1 pass')
  expect(exitCode).toBe(1)
  expect(output).toContain('1 process(es) started by this test run were still running at the end (now killed):')
  expect(output).toContain(`${pid}  sleep 300`)
  await waitUntil(() => !isAlive(pid), `the leaked process ${pid} to be gone`, 5_000)
}, 60_000)
