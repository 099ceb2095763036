import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'
import { zapInTerminal } from '@zap/testkit/terminal'

let stack: Awaited<ReturnType<typeof startStack>>
let ada: Awaited<ReturnType<typeof signedUpUser>>
beforeAll(async () => {
  stack = await startStack({ pipeline: true })
  ada = await signedUpUser(stack.apiUrl)
}, 60_000)
afterAll(async () => {
  await stack?.stop()
}, 30_000)

// Sets the terminal's title, clears the screen, starts a C1 control sequence and reverses the text after it.
const hostile = '\x1b]0;pwned\x07\x1b[2J\x9b31m\u202eevil'
const rawControls = /[\x00-\x09\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]/

describe("a sender's text in human output", () => {
  test('shows control characters as escapes in steps, runs and their verbose output, and --json keeps them exact', async () => {
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Hostile', '--step', logStep()])
    const followed = await ada.zap(['trigger', zap.id, '--data', JSON.stringify({ name: hostile }), '--wait', '--verbose'])
    expect(followed.exitCode).toBe(0)
    expect(followed.stdout).not.toMatch(rawControls)
    expect(followed.stdout).toContain('→ hi \\x1b]0;pwned\\x07\\x1b[2J\\x9b31m\\u202eevil')
    const runId = followed.stdout.match(/Run ([0-9a-f-]{36})/)![1]!

    const shown = await ada.zap(['runs', 'show', runId, '--verbose'])
    expect(shown.exitCode).toBe(0)
    expect(shown.stdout).not.toMatch(rawControls)
    expect(shown.stdout).toContain('\\x9b31m\\u202eevil')

    const json = await ada.zapJson(['runs', 'show', runId])
    expect(json.steps[0].output.message).toBe(`hi ${hostile}`)
    expect(json.trigger.body.name).toBe(hostile)
  }, 30_000)
})

describe('lists in a terminal', () => {
  test('leave no spinner behind: no stray │, and no escape at all with NO_COLOR', async () => {
    const plain = zapInTerminal(['runs', 'list'], { ...ada.env, NO_COLOR: '1' }, { keepEscapes: true })
    expect(await plain.exited()).toBe(0)
    expect(plain.screen()).toContain('STATUS')
    expect(plain.screen()).not.toContain('\x1b')
    expect(plain.screen()).not.toContain('│')

    const coloured = zapInTerminal(['zaps', 'list'], ada.env)
    expect(await coloured.exited()).toBe(0)
    expect(coloured.screen()).toContain('Hostile')
    expect(coloured.screen()).not.toContain('│')
  }, 30_000)
})
