import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { startService } from '@zap/testkit/services'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
let ada: Awaited<ReturnType<typeof signedUpUser>>
let zapId: string
beforeAll(async () => {
  stack = await startStack()
  ada = await signedUpUser(stack.apiUrl)
  zapId = (await ada.zapJson(['zaps', 'create', '--name', 'Target', '--step', logStep()])).id
})
afterAll(() => stack.stop())

const triggerOf = async (runId: string) => (await ada.zapJson(['runs', 'show', runId])).trigger

describe('zap trigger', () => {
  test('--data sends JSON with a JSON content type and prints the run id', async () => {
    const result = await ada.zap(['trigger', zapId, '--data', '{"name":"Ada"}'])
    expect(result.exitCode).toBe(0)
    const runId = result.stdout.match(/Run ([0-9a-f-]{36}) queued/)![1]!
    expect(await triggerOf(runId)).toMatchObject({ body: { name: 'Ada' }, contentType: 'application/json' })
  })

  test('--file sends the file', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'zap-body-')), 'event.json')
    writeFileSync(file, '{"from":"file"}')
    const { runId } = await ada.zapJson(['trigger', zapId, '--file', file])
    expect((await triggerOf(runId)).body).toEqual({ from: 'file' })
  })

  test('- reads the body from standard input; text is sent as text/plain', async () => {
    const { runId } = await ada.zapJson(['trigger', zapId, '-'], { stdin: 'plain words' })
    expect(await triggerOf(runId)).toMatchObject({ body: 'plain words', contentType: 'text/plain' })
  })

  test('--header is sent, and a repeated Idempotency-Key gives the same run', async () => {
    const key = `order-${crypto.randomUUID()}`
    const args = ['trigger', zapId, '--data', '{}', '--header', `Idempotency-Key: ${key}`, '-H', 'X-Source:cli']
    const first = await ada.zapJson(args)
    const again = await ada.zap(args)
    expect(again.stdout).toContain(`Already received (same idempotency key): run ${first.runId}`)
    expect((await triggerOf(first.runId)).headers).toMatchObject({ 'idempotency-key': key, 'x-source': 'cli' })
  })

  test('two body sources at once are refused', async () => {
    const result = await ada.zap(['trigger', zapId, '--data', '{}', '-'], { stdin: '{}' })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('Give the body one way only')
  })

  test('a header without a colon shows an example', async () => {
    const result = await ada.zap(['trigger', zapId, '--header', 'nocolon'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('Example: --header "X-Source: cli"')
  })

  test('a disabled zap says to enable it', async () => {
    const disabled = await ada.zapJson(['zaps', 'create', '--name', 'Off', '--step', logStep(), '--disabled'])
    const result = await ada.zap(['trigger', disabled.id, '--data', '{}'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe(`Error: Zap ${disabled.id} is disabled, so its webhook refuses requests. Enable it: zap zaps enable ${disabled.id}`)
  })

  test('an unknown zap is not found', async () => {
    const result = await ada.zap(['trigger', crypto.randomUUID(), '--data', '{}'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('Zap not found. Check the id with: zap zaps list')
  })

  test('an unreachable webhook receiver is named with its URL', async () => {
    const api = await startService('api', { PUBLIC_HOOKS_URL: 'http://127.0.0.1:9' })
    try {
      const result = await ada.zap(['trigger', zapId, '--data', '{}'], { env: { ZAP_API_URL: api.url!, ZAP_TOKEN: ada.token } })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(`Could not reach the webhook receiver at http://127.0.0.1:9/hooks/${zapId}`)
    } finally {
      await api.stop()
    }
  })
})

describe('zap trigger --secret', () => {
  const githubSecret = 'a-github-webhook-secret-0123456789'

  test('signs in the zap’s scheme, so a protected zap accepts it; without the secret the error says how', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Pushes', '--step', logStep(), '--verify', JSON.stringify({ scheme: 'github', secrets: [githubSecret] })])
    expect(zap.verify).toEqual({ scheme: 'github', secretCount: 1, hasVerifyToken: false })
    expect((await ada.zap(['zaps', 'show', zap.id])).stdout).toMatch(/Verified:\s+github, 1 secret/)
    const { runId } = await ada.zapJson(['trigger', zap.id, '--data', '{"ref":"main"}', '--secret', githubSecret])
    const trigger = await triggerOf(runId)
    expect(trigger.body).toEqual({ ref: 'main' })
    expect(trigger.headers['x-hub-signature-256']).toStartWith('sha256=')
    const unsigned = await ada.zap(['trigger', zap.id, '--data', '{}'])
    expect(unsigned.exitCode).toBe(1)
    expect(unsigned.stderr).toContain('Missing X-Hub-Signature-256 header. This zap verifies its webhooks (github): sign with --secret')
    const wrong = await ada.zap(['trigger', zap.id, '--data', '{}', '--secret', 'not-the-github-secret'])
    expect(wrong.exitCode).toBe(1)
    expect(wrong.stderr).toContain('does not match')
  })

  test('ZAP_SIGNING_SECRET signs for a Standard Webhooks zap, each request a new message', async () => {
    const secret = `whsec_${Buffer.from('a standard webhooks secret, 32 b').toString('base64')}`
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Standard', '--step', logStep(), '--secret', secret])
    const first = await ada.zapJson(['trigger', zap.id, '--data', '{"n":1}'], { env: { ZAP_SIGNING_SECRET: secret } })
    const second = await ada.zapJson(['trigger', zap.id, '--data', '{"n":1}'], { env: { ZAP_SIGNING_SECRET: secret } })
    expect(second.runId).not.toBe(first.runId)
    expect((await triggerOf(first.runId)).headers['webhook-id']).toStartWith('msg_')
  })

  test('--secret for a zap that does not verify is refused', async () => {
    const result = await ada.zap(['trigger', zapId, '--data', '{}', '--secret', githubSecret])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('This zap does not verify its webhooks: drop --secret.')
  })

  test('zap zaps rejections lists refused webhooks and why, as a table and as JSON', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Refusing', '--step', logStep(), '--verify', JSON.stringify({ scheme: 'slack', secrets: ['a-slack-signing-secret-0123456789'] })])
    expect((await ada.zap(['zaps', 'rejections', zap.id])).stdout).toContain('No refused webhooks in the last 7 days.')
    await ada.zap(['trigger', zap.id, '--data', '{"type":"event_callback"}', '--secret', 'a-wrong-slack-secret-0123456789'])
    const table = await ada.zap(['zaps', 'rejections', zap.id])
    expect(table.stdout).toMatch(/^RECEIVED\s+METHOD\s+SENDER\s+REASON$/m)
    expect(table.stdout).toContain('X-Slack-Signature does not match the zap’s signing secrets')
    const [rejection] = await ada.zapJson(['zaps', 'rejections', zap.id])
    expect(rejection).toMatchObject({ method: 'POST', bodyPreview: '{"type":"event_callback"}', bodyBytes: 25 })
    expect(rejection.senderIp).toMatch(/127\.0\.0\.1|::1/)
  })
})

describe('zap runs list and show', () => {
  test('list shows runs newest first as a table and as JSON, filtered by zap and status', async () => {
    const bob = await signedUpUser(stack.apiUrl)
    const zap = await bob.zapJson(['zaps', 'create', '--name', 'Runs', '--step', logStep()])
    const other = await bob.zapJson(['zaps', 'create', '--name', 'Other', '--step', logStep()])
    const first = await bob.zapJson(['trigger', zap.id, '--data', '{"n":1}'])
    const second = await bob.zapJson(['trigger', zap.id, '--data', '{"n":2}'])
    await bob.zapJson(['trigger', other.id, '--data', '{}'])
    const runs = await bob.zapJson(['runs', 'list', '--zap', zap.id])
    expect(runs.map((run: { id: string }) => run.id)).toEqual([second.runId, first.runId])
    expect(runs[0]).toMatchObject({ zapId: zap.id, version: 1, status: 'queued' })
    expect(await bob.zapJson(['runs', 'list', '--zap', zap.id, '--limit', '1'])).toHaveLength(1)
    expect(await bob.zapJson(['runs', 'list', '--status', 'failed'])).toEqual([])
    const text = await bob.zap(['runs', 'list'])
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+ZAP\s+VERSION\s+STATUS\s+CREATED\s+DURATION$/)
    expect(lines).toHaveLength(4)
    expect(lines[2]).toStartWith(second.runId)
  })

  test('list with no runs says how to trigger one', async () => {
    const carol = await signedUpUser(stack.apiUrl)
    expect((await carol.zap(['runs', 'list'])).stdout).toContain('No runs match. Trigger a zap')
  })

  test('show prints the steps; --verbose the trigger; --json the run', async () => {
    const { runId } = await ada.zapJson(['trigger', zapId, '--data', '{"name":"Shown"}'])
    const text = await ada.zap(['runs', 'show', runId])
    expect(text.stdout).toMatch(/^#\s+TYPE\s+STATUS\s+ATTEMPTS\s+DURATION\s+ERROR$/m)
    expect(text.stdout).toMatch(/^1\s+log\s+pending\s+0\s+-$/m)
    expect(text.stdout).not.toContain('"Shown"')
    expect((await ada.zap(['runs', 'show', runId, '--verbose'])).stdout).toContain('"name": "Shown"')
    const run = await ada.zapJson(['runs', 'show', runId])
    expect(run).toMatchObject({ id: runId, zapId, trigger: { body: { name: 'Shown' } }, steps: [{ index: 0, type: 'log' }] })
  })

  test('an unknown run is not found', async () => {
    const result = await ada.zap(['runs', 'show', crypto.randomUUID()])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe('Error: Run not found. Check the id with: zap runs list')
  })

  test('watch prints the latest --limit runs, then new ones as they arrive', async () => {
    const dave = await signedUpUser(stack.apiUrl)
    const zap = await dave.zapJson(['zaps', 'create', '--name', 'Watched', '--step', logStep()])
    await dave.zapJson(['trigger', zap.id, '--data', '{}'])
    const before = await dave.zapJson(['trigger', zap.id, '--data', '{}'])
    const watcher = Bun.spawn(['bun', join(import.meta.dir, 'bin.ts'), 'runs', 'watch', '--limit', '1', '--json'], { env: dave.env, stdout: 'pipe', stderr: 'pipe' })
    const lines: string[] = []
    const reading = (async () => {
      for await (const chunk of watcher.stdout.pipeThrough(new TextDecoderStream())) lines.push(...chunk.split('\n').filter(Boolean))
    })()
    const seen = async (runId: string) => {
      for (let waited = 0; waited < 10_000 && !lines.some((line) => line.includes(runId)); waited += 50) await Bun.sleep(50)
      return lines.some((line) => line.includes(runId))
    }
    try {
      expect(await seen(before.runId)).toBe(true)
      const after = await dave.zapJson(['trigger', zap.id, '--data', '{}'])
      expect(await seen(after.runId)).toBe(true)
      expect(lines.map((line) => JSON.parse(line).id)).toEqual([before.runId, after.runId])
    } finally {
      watcher.kill('SIGINT')
      expect(await watcher.exited).toBe(0)
      await reading
    }
  }, 30_000)
})
