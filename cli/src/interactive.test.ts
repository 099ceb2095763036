import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { logStep, signedUpUser, startStack } from '@zap/testkit/cli'
import { keys, zapInTerminal } from '@zap/testkit/terminal'

let stack: Awaited<ReturnType<typeof startStack>>
let stepTypes: string[]
beforeAll(async () => {
  stack = await startStack()
  stepTypes = (await (await signedUpUser(stack.apiUrl)).zapJson(['steps'])).map((step: { type: string }) => step.type)
})
afterAll(() => stack.stop())

const pick = (type: string) => keys.down.repeat(stepTypes.indexOf(type))

async function startCreatingLogZap(env: Record<string, string>, name: string) {
  const terminal = zapInTerminal(['zaps', 'create'], env)
  await terminal.waitFor('Name')
  await terminal.type(name, keys.enter)
  await terminal.waitFor('Step 1: what should happen?')
  await terminal.type(pick('log'), keys.enter)
  await terminal.waitFor('◆  message')
  return terminal
}

describe('zap zaps create in a terminal', () => {
  test('asks for the name and the steps from the catalog, checks the fields, shows a review and creates the zap', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const terminal = await startCreatingLogZap(ada.env, 'Interactive zap')
    await terminal.type(keys.enter)
    await terminal.waitFor('Required')
    await terminal.type('hello {{trigger.body.name}}', keys.enter)
    await terminal.waitFor('Step 2: add another step?')
    await terminal.type(pick('http'), keys.down, keys.enter)
    await terminal.waitFor('method')
    await terminal.type(keys.enter)
    await terminal.waitFor('url')
    await terminal.type('https://example.com/in', keys.enter)
    for (const optional of ['headers (optional)', 'body (optional)', 'timeoutMs (optional)', 'rateLimit (optional)']) {
      await terminal.waitFor(optional)
      if (optional.startsWith('timeoutMs')) {
        await terminal.type('5', keys.enter)
        await terminal.waitFor('At least 100')
        await terminal.type('000', keys.enter)
      } else if (optional.startsWith('rateLimit')) await terminal.type('{"requests":5,"perSeconds":1}', keys.enter)
      else await terminal.type(keys.enter)
    }
    await terminal.waitFor('Step 3: add another step?')
    await terminal.type(keys.enter)
    await terminal.waitFor('1. log {"message":"hello {{trigger.body.name}}"}')
    await terminal.waitFor('Create this zap?')
    await terminal.type(keys.enter)
    await terminal.waitFor('Webhook URL:')
    expect(await terminal.exited()).toBe(0)
    const [zap] = await ada.zapJson(['zaps', 'list'])
    expect(zap).toMatchObject({
      name: 'Interactive zap',
      steps: [
        { type: 'log', config: { message: 'hello {{trigger.body.name}}' } },
        { type: 'http', config: { method: 'POST', url: 'https://example.com/in', timeoutMs: 5000, rateLimit: { requests: 5, perSeconds: 1 } } },
      ],
    })
  }, 30_000)

  test('choosing Cancel at the review exits 0 and creates nothing', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const terminal = await startCreatingLogZap(ada.env, 'Never')
    await terminal.type('hi', keys.enter)
    await terminal.waitFor('Step 2')
    await terminal.type(keys.enter)
    await terminal.waitFor('Create this zap?')
    await terminal.type(keys.down, keys.enter)
    expect(await terminal.exited()).toBe(0)
    expect(terminal.screen()).toContain('Cancelled.')
    expect(await ada.zapJson(['zaps', 'list'])).toEqual([])
  }, 30_000)

  test('Ctrl-C at a prompt exits 130 and creates nothing', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const terminal = zapInTerminal(['zaps', 'create'], ada.env)
    await terminal.waitFor('Name')
    await terminal.type('Half', keys.ctrlC)
    expect(await terminal.exited()).toBe(130)
    expect(await ada.zapJson(['zaps', 'list'])).toEqual([])
  }, 30_000)
})

describe('other prompts in a terminal', () => {
  test('zaps edit without flags asks for the changes, keeping the steps when told to', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Before', '--step', logStep('kept')])
    const terminal = zapInTerminal(['zaps', 'edit', zap.id], ada.env)
    await terminal.waitFor('Edit zap Before')
    await terminal.waitFor('Name')
    await terminal.type('\x7f'.repeat('Before'.length), 'After', keys.enter)
    await terminal.waitFor('Keep the 1 steps')
    await terminal.type(keys.enter)
    await terminal.waitFor('Save these changes?')
    await terminal.type(keys.enter)
    await terminal.waitFor('Saved zap "After"')
    expect(await terminal.exited()).toBe(0)
    expect(await ada.zapJson(['zaps', 'show', zap.id])).toMatchObject({ name: 'After', version: 1, steps: [{ config: { message: 'kept' } }] })
  }, 30_000)

  test('zaps delete asks first; answering No keeps the zap', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const zap = await ada.zapJson(['zaps', 'create', '--name', 'Kept', '--step', logStep()])
    const terminal = zapInTerminal(['zaps', 'delete', zap.id], ada.env)
    await terminal.waitFor('Delete zap "Kept"')
    await terminal.type(keys.enter)
    expect(await terminal.exited()).toBe(0)
    expect((await ada.zapJson(['zaps', 'show', zap.id])).name).toBe('Kept')
  }, 30_000)

  test('login asks for the email and a hidden password', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    await ada.zap(['logout'])
    const terminal = zapInTerminal(['login'], ada.env)
    await terminal.waitFor('Email')
    await terminal.type(ada.email, keys.enter)
    await terminal.waitFor('Password')
    await terminal.type(ada.password, keys.enter)
    await terminal.waitFor(`Logged in as ${ada.email}`)
    expect(await terminal.exited()).toBe(0)
    expect(terminal.screen()).not.toContain(ada.password)
  }, 30_000)

  test('tables are coloured on a terminal unless NO_COLOR is set', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    await ada.zap(['zaps', 'create', '--name', 'Colourful', '--step', logStep()])
    const raw = async (env: Record<string, string>) => {
      const terminal = zapInTerminal(['zaps', 'list'], env, { keepEscapes: true })
      await terminal.exited()
      return terminal.screen()
    }
    expect(await raw(ada.env)).toContain('\x1b[32menabled\x1b[0m')
    expect(await raw({ ...ada.env, NO_COLOR: '1' })).not.toContain('\x1b[32m')
  }, 30_000)
})
