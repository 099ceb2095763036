import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack.stop())

describe('zap alerts secret', () => {
  test('makes the alert secret, after which a zap file may set onFailure.webhook, and zaps show names it', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const file = join(mkdtempSync(join(tmpdir(), 'zap-file-')), 'zap.json')
    writeFileSync(file, JSON.stringify({ name: 'Alerting', steps: [{ type: 'log', config: { message: 'hi' } }], onFailure: { webhook: 'https://example.com/alerts' } }))
    const refused = await ada.zap(['zaps', 'create', '--file', file])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain('zap alerts secret')

    const made = await ada.zap(['alerts', 'secret'])
    expect(made.exitCode).toBe(0)
    expect(made.stdout).toMatch(/shown only now[\s\S]*\nwhsec_[A-Za-z0-9+/]{43}=\n/)
    expect((await ada.zapJson(['alerts', 'secret'])).secret).toMatch(/^whsec_/)

    const zap = await ada.zapJson(['zaps', 'create', '--file', file])
    expect(zap.onFailure).toEqual({ webhook: 'https://example.com/alerts' })
    expect((await ada.zap(['zaps', 'show', zap.id])).stdout).toContain('https://example.com/alerts')
    expect((await ada.zapJson(['zaps', 'create', '--name', 'Plain', '--step', logStep()])).onFailure).toBeNull()
  }, 60_000)
})
