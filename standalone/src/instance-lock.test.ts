import { afterAll, expect, test } from 'bun:test'
import { mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { lockDataDir } from './instance-lock.ts'

const dataDir = mkdtempSync(join(tmpdir(), 'zap-lock-'))
afterAll(() => rmSync(dataDir, { recursive: true, force: true }))

test('a data dir is claimed by one instance at a time, which the refusal names, and is free again once released', () => {
  const first = lockDataDir(dataDir, 3001)
  expect(() => lockDataDir(dataDir, 4001)).toThrow(`zap is already running here (pid ${process.pid}, API on :3001)`)
  first.release()
  const second = lockDataDir(dataDir, 4001)
  second.release()
})

test('the lock goes with a process that is killed, so the next start is not blocked', async () => {
  const holder = Bun.spawn(['bun', '-e', `require(${JSON.stringify(join(import.meta.dir, 'instance-lock.ts'))}).lockDataDir(${JSON.stringify(dataDir)}, 3001); console.log('locked'); setInterval(() => {}, 1000)`], { stdout: 'pipe' })
  try {
    const reader = holder.stdout.getReader()
    expect(new TextDecoder().decode((await reader.read()).value)).toContain('locked')
    expect(() => lockDataDir(dataDir, 4001)).toThrow(`(pid ${holder.pid}, API on :3001)`)
  } finally {
    holder.kill('SIGKILL')
    await holder.exited
  }
  lockDataDir(dataDir, 4001).release()
})
