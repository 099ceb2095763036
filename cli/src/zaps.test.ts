import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
let ada: Awaited<ReturnType<typeof signedUpUser>>
beforeAll(async () => {
  stack = await startStack()
  ada = await signedUpUser(stack.apiUrl)
})
afterAll(() => stack.stop())

const writeTemp = (name: string, content: string) => {
  const path = join(mkdtempSync(join(tmpdir(), 'zap-file-')), name)
  writeFileSync(path, content)
  return path
}

describe('schedules', () => {
  test('create, show, list, edit and remove a schedule from flags, times shown in the user’s zone', async () => {
    const created = await ada.zapJson(['zaps', 'create', '--name', 'Daily', '--step', logStep(), '--schedule', '0 9 * * 1-5', '--timezone', 'Europe/Berlin'])
    expect(created.schedule).toEqual({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', catchUp: 'none' })
    expect(created.nextRuns).toHaveLength(3)
    const shown = await ada.zap(['zaps', 'show', created.id], { env: { TZ: 'America/New_York' } })
    expect(shown.stdout).toContain('At 09:00, Monday through Friday (0 9 * * 1-5, Europe/Berlin)')
    // 09:00 in Berlin is 03:00 in New York all year.
    expect(shown.stdout).toMatch(/Next runs: +\w{3}, \d+ \w{3} \d{4}, 03:00 (GMT-[45]|E[SD]T);/)
    expect((await ada.zap(['zaps', 'list'])).stdout).toContain('0 9 * * 1-5')
    const caughtUp = await ada.zapJson(['zaps', 'edit', created.id, '--catch-up', 'latest'])
    expect(caughtUp.schedule).toEqual({ cron: '0 9 * * 1-5', timezone: 'Europe/Berlin', catchUp: 'latest' })
    const removed = await ada.zapJson(['zaps', 'edit', created.id, '--no-schedule'])
    expect(removed).toMatchObject({ schedule: null, nextRuns: [] })
  })

  test('a wrong time zone names the field, and --catch-up without a schedule says to give one', async () => {
    const badZone = await ada.zap(['zaps', 'create', '--name', 'x', '--step', logStep(), '--schedule', '0 9 * * *', '--timezone', 'Berlin'])
    expect(badZone.exitCode).toBe(1)
    expect(badZone.stderr).toContain('schedule.timezone')
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Plain', '--step', logStep()])
    const noSchedule = await ada.zap(['zaps', 'edit', zap.id, '--catch-up', 'latest'])
    expect(noSchedule.exitCode).toBe(1)
    expect(noSchedule.stderr).toContain("give it one with --schedule '<cron>'")
  })

  test('step ids and the schedule come through a file', async () => {
    const file = writeTemp('zap.json', JSON.stringify({ name: 'Filed', schedule: { cron: '30 6 * * *' }, steps: [{ id: 'greet', type: 'log', config: { message: 'hi' } }] }))
    const zap = await ada.zapJson(['zaps', 'create', '--file', file])
    expect(zap.steps).toEqual([{ id: 'greet', type: 'log', config: { message: 'hi' } }])
    expect(zap.schedule).toEqual({ cron: '30 6 * * *', timezone: 'UTC', catchUp: 'none' })
  })
})

describe('zaps create', () => {
  test('from flags, printing the webhook URL of the hooks service', async () => {
    const result = await ada.zap(['zaps', 'create', '--name', 'Greeter', '--step', logStep(), '--step', 'http:{"url":"https://example.com/in"}'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Created zap "Greeter"')
    expect(result.stdout).toMatch(new RegExp(`Webhook URL: ${stack.hooks.url}/hooks/[0-9a-f-]{36}`))
  })

  test('from a file with the JSON the API takes, --json printing the zap', async () => {
    const file = writeTemp('zap.json', JSON.stringify({ name: 'From file', steps: [{ type: 'log', config: { message: 'hello' } }], enabled: false }))
    const zap = await ada.zapJson(['zaps', 'create', '--file', file])
    expect(zap).toMatchObject({ name: 'From file', enabled: false, version: 1, steps: [{ type: 'log', config: { message: 'hello' } }] })
    expect(zap.webhookUrl).toBe(`${stack.hooks.url}/hooks/${zap.id}`)
  })

  test('flags override the file', async () => {
    const file = writeTemp('zap.json', JSON.stringify({ name: 'File name', steps: [{ type: 'log', config: { message: 'hello' } }] }))
    const zap = await ada.zapJson(['zaps', 'create', '--file', file, '--name', 'Flag name'])
    expect(zap.name).toBe('Flag name')
  })

  test('a step config the API rejects names the field', async () => {
    const result = await ada.zap(['zaps', 'create', '--name', 'Bad', '--step', 'http:{"url":"ftp://nope"}'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toStartWith('Error: Invalid input: steps.0.config.url')
  })

  test('a step without a required field, or with one it does not know, names the field', async () => {
    const missing = await ada.zap(['zaps', 'create', '--name', 'Bare', '--step', 'log'])
    expect(missing.exitCode).toBe(1)
    expect(missing.stderr.trim()).toBe('Error: Invalid input: steps.0.config.message: message is required')
    const unknown = await ada.zap(['zaps', 'create', '--name', 'Extra', '--step', 'log:{"message":"hi","colour":"red"}'])
    expect(unknown.exitCode).toBe(1)
    expect(unknown.stderr.trim()).toBe('Error: Invalid input: steps.0.config.colour: colour is not a known field')
  })

  test.each([
    ['a missing file', () => '/nonexistent/zap.json', 'File not found: /nonexistent/zap.json'],
    ['a file that is not JSON', () => writeTemp('bad.json', '{"name": '), 'is not valid JSON'],
    ['a file without steps in the right shape', () => writeTemp('shape.json', '{"name": "x", "steps": {}}'), 'steps: Invalid type'],
  ])('%s is one line saying what is wrong', async (_what, path, message) => {
    const result = await ada.zap(['zaps', 'create', '--file', path()])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(message)
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('a --step that is not type:json shows an example', async () => {
    const result = await ada.zap(['zaps', 'create', '--name', 'x', '--step', 'log:{message}'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`--step 'log:{"message":"hi"}'`)
  })

  test('without flags and without a terminal it says which flags to pass instead of prompting', async () => {
    const result = await ada.zap(['zaps', 'create'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('No terminal to ask in: pass --name and --step, or --file zap.json.')
  })
})

describe('zaps list and show', () => {
  test('list shows a table, and --json an array with the same zaps', async () => {
    const bob = await signedUpUser(stack.apiUrl)
    await bob.zap(['zaps', 'create', '--name', 'First', '--step', logStep()])
    await bob.zap(['zaps', 'create', '--name', 'Second', '--step', logStep(), '--disabled'])
    const text = await bob.zap(['zaps', 'list'])
    const lines = text.stdout.trimEnd().split('\n')
    expect(lines[0]).toMatch(/^ID\s+NAME\s+STATE\s+VERSION\s+STEPS\s+SCHEDULE\s+CREATED$/)
    expect(lines.slice(1).map((line) => line.split(/\s{2,}/)[1])).toEqual(['Second', 'First'])
    expect(text.stdout).not.toContain('\x1b[')
    const zaps = await bob.zapJson(['zaps', 'list'])
    expect(zaps.map((zap: { name: string; enabled: boolean }) => [zap.name, zap.enabled])).toEqual([['Second', false], ['First', true]])
  })

  test('an empty list says how to create a zap', async () => {
    const carol = await signedUpUser(stack.apiUrl)
    expect((await carol.zap(['zaps', 'list'])).stdout).toContain('No zaps yet. Create one: zap zaps create')
    expect(await carol.zapJson(['zaps', 'list'])).toEqual([])
  })

  test('show prints the webhook URL and steps; --json the zap', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Shown', '--step', logStep('shown')])
    const text = await ada.zap(['zaps', 'show', zap.id])
    expect(text.exitCode).toBe(0)
    expect(text.stdout).toContain(zap.webhookUrl)
    expect(text.stdout).toContain('1. log {"message":"shown"}')
    expect(await ada.zapJson(['zaps', 'show', zap.id])).toEqual(zap)
  })

  test("another user's zap is not found", async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Private', '--step', logStep()])
    const eve = await signedUpUser(stack.apiUrl)
    const result = await eve.zap(['zaps', 'show', zap.id])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe('Error: Zap not found. Check the id with: zap zaps list')
  })

  test('an id that is not an id is refused before asking the API', async () => {
    const result = await ada.zap(['zaps', 'show', 'nope'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('"nope" is not a zap id')
  })
})

describe('zaps edit, enable, disable, delete', () => {
  test('disable and enable change the state', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Toggle', '--step', logStep()])
    expect((await ada.zap(['zaps', 'disable', zap.id])).stdout).toContain('Disabled zap "Toggle"')
    expect((await ada.zapJson(['zaps', 'show', zap.id])).enabled).toBe(false)
    expect((await ada.zap(['zaps', 'enable', zap.id])).stdout).toContain('Enabled zap "Toggle"')
    expect((await ada.zapJson(['zaps', 'show', zap.id])).enabled).toBe(true)
  })

  test('edit with new steps makes a new version; renaming keeps it', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Edited', '--step', logStep()])
    const renamed = await ada.zapJson(['zaps', 'edit', zap.id, '--name', 'Renamed'])
    expect(renamed).toMatchObject({ name: 'Renamed', version: 1 })
    const restepped = await ada.zap(['zaps', 'edit', zap.id, '--step', logStep('v2')])
    expect(restepped.stdout).toContain('now v2')
    expect((await ada.zapJson(['zaps', 'show', zap.id])).steps).toEqual([{ type: 'log', config: { message: 'v2' } }])
  })

  test('edit sets and removes the signing secret', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Signed', '--step', logStep()])
    expect((await ada.zapJson(['zaps', 'edit', zap.id, '--secret', 'whsec_c2VjcmV0LXNpZ25pbmcta2V5LTEyMzQ='])).hasSecret).toBe(true)
    expect((await ada.zapJson(['zaps', 'edit', zap.id, '--no-secret'])).hasSecret).toBe(false)
  })

  test('delete needs --yes without a terminal, then the zap is gone', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Doomed', '--step', logStep()])
    const refused = await ada.zap(['zaps', 'delete', zap.id])
    expect(refused.exitCode).toBe(1)
    expect(refused.stderr).toContain('add --yes')
    expect((await ada.zap(['zaps', 'delete', zap.id, '--yes'])).stdout).toContain(`Deleted zap ${zap.id}`)
    const shown = await ada.zap(['zaps', 'show', zap.id])
    expect(shown.stderr).toContain('Zap not found')
    expect((await ada.zap(['zaps', 'delete', zap.id, '--yes'])).exitCode).toBe(1)
  })
})

test('zap steps lists the catalog from the API, required fields starred, and each shape of a config that takes several', async () => {
  const text = await ada.zap(['steps'])
  expect(text.stdout).toMatch(/^http\s+method, url\*, headers, body, timeoutMs, rateLimit\s+Send an HTTP request/m)
  expect(text.stdout).toMatch(/^delay\s+seconds\* \| until\*\s+Wait for/m)
  const steps = await ada.zapJson(['steps'])
  expect(steps.map((step: { type: string }) => step.type)).toContain('log')
})
