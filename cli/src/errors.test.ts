import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdirSync, mkdtempSync, writeFileSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import rootPackage from '../../package.json' with { type: 'json' }
import { binPath, cleanEnv, runZap, signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack.stop())

const zap = (args: string[], env: Record<string, string>) => runZap(['bun', binPath], args, env)
const closedPort = 'http://127.0.0.1:9'
const checkout = join(import.meta.dir, '..', '..')

describe('the API unreachable or wrong', () => {
  test('ZAP_API_URL pointing nowhere names the URL it tried', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const result = await zap(['zaps', 'list'], { ...cleanEnv(closedPort), ZAP_TOKEN: ada.token })
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe(`Error: Could not reach the zap API at ${closedPort}/api/v1/zaps. Start it with bun run dev in the zap checkout, or point --api or ZAP_API_URL at a running one.`)
  })

  test('--api overrides ZAP_API_URL, and login names the URL it tried', async () => {
    const args = ['login', '--api', closedPort, '--email', 'a@example.com', '--password-stdin']
    const result = await runZap(['bun', binPath], args, cleanEnv(stack.apiUrl), { stdin: 'some password' })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(`Could not reach the zap API at ${closedPort}/readyz`)
  })

  test.each([['signup'], ['login']])('%s checks the API before asking anything, in one line naming it and what to do', async (command) => {
    const result = await zap([command], cleanEnv(closedPort))
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toBe(`Error: Could not reach the zap API at ${closedPort}/readyz. Start it with bun run dev in the zap checkout, or point --api or ZAP_API_URL at a running one.\n`)
  })

  test('a login made with --api is used for later commands without it', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const env = cleanEnv(closedPort)
    const login = await runZap(['bun', binPath], ['login', '--api', stack.apiUrl, '--email', ada.email, '--password-stdin'], env, { stdin: ada.password })
    expect(login.exitCode).toBe(0)
    const { ZAP_API_URL: _ignored, ...withoutApiUrl } = env
    expect((await zap(['whoami'], withoutApiUrl)).stdout).toContain(ada.email)
  })

  test('a server that is not the zap API is reported as such', async () => {
    const server = Bun.serve({ port: 0, fetch: () => new Response('<html>hello</html>', { status: 404 }) })
    try {
      const result = await zap(['whoami'], { ...cleanEnv(server.url.origin), ZAP_TOKEN: 'x' })
      expect(result.exitCode).toBe(1)
      expect(result.stderr).toContain(`did not answer like the zap API (HTTP 404)`)
    } finally {
      server.stop(true)
    }
  })

  test('an invalid ZAP_API_URL is named', async () => {
    const result = await zap(['whoami'], cleanEnv('not a url'))
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('ZAP_API_URL must be a URL')
  })
})

describe('through the checkout\'s `bun zap` script', () => {
  const bunZap = (args: string[], env: Record<string, string>) => runZap(['bun', 'zap'], args, env, { cwd: checkout })

  test('hints name `bun zap`, and an error is one line with no second one from bun', async () => {
    const result = await bunZap(['whoami'], cleanEnv(closedPort))
    expect(result.exitCode).toBe(1)
    expect(result.stdout).toBe('')
    expect(result.stderr).toBe('Error: Not logged in. Run: bun zap login\n')
  })

  test("--version prints the root package.json's version, as the services report it", async () => {
    const result = await bunZap(['--version'], cleanEnv(closedPort))
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toBe(`${rootPackage.version}\n`)
  })

  test('usage and examples name `bun zap` too', async () => {
    const help = await bunZap(['trigger', '--help'], cleanEnv(closedPort))
    expect(help.stdout).toStartWith('Usage: bun zap trigger ')
    expect(help.stdout).toContain('$ bun zap trigger ')
    expect(help.stdout).not.toMatch(/(?<!bun )\bzap (trigger|zaps|runs)\b/)
  })
})

describe('a broken saved login', () => {
  test('a damaged config file says to delete it and log in', async () => {
    const env = cleanEnv(stack.apiUrl)
    mkdirSync(join(env.XDG_CONFIG_HOME, 'zap'), { recursive: true })
    writeFileSync(join(env.XDG_CONFIG_HOME, 'zap', 'config.json'), '{not json')
    const result = await zap(['zaps', 'list'], env)
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('config.json is damaged. Delete it and run: zap login')
  })

  test('the config lives under ~/.config/zap when XDG_CONFIG_HOME is not set', async () => {
    const home = mkdtempSync(join(tmpdir(), 'zap-home-'))
    const env = { PATH: Bun.env.PATH!, HOME: home, ZAP_API_URL: stack.apiUrl }
    const email = `home-${crypto.randomUUID()}@example.com`
    const signup = await runZap(['bun', binPath], ['signup', '--email', email, '--name', 'H', '--password-stdin'], env, { stdin: 'correct horse battery' })
    expect(signup.exitCode).toBe(0)
    expect(await Bun.file(join(home, '.config', 'zap', 'config.json')).exists()).toBe(true)
  })
})

describe('replay arguments', () => {
  test.each([
    [['runs', 'replay'], 'Say what to replay: a run id (zap runs replay <runId>) or --failed for all failed runs.'],
    [['runs', 'replay', '01a21327-9710-743c-97cd-fe537ef41e76', '--failed'], 'Give either a run id or --failed, not both.'],
    [['runs', 'replay', '--failed'], 'No terminal to ask in: add --yes to go ahead without a prompt.'],
    [['runs', 'replay', '--failed', '--since', 'yesterday', '--yes'], "option '--since <when>' argument 'yesterday' is invalid"],
    [['runs', 'replay', 'not-an-id'], '"not-an-id" is not a run id'],
  ])('zap %p explains what is missing before calling the API', async (args, message) => {
    const result = await zap(args, { ...cleanEnv(closedPort), ZAP_TOKEN: 'token' })
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain(message)
  })
})

describe('usage', () => {
  test('--help lists every command with examples and the environment', async () => {
    const help = await zap(['--help'], cleanEnv(stack.apiUrl))
    for (const command of ['signup', 'login', 'logout', 'whoami', 'zaps', 'steps', 'trigger', 'runs']) expect(help.stdout).toContain(`  ${command}`)
    expect(help.stdout).toContain('ZAP_API_URL')
    expect(help.stdout).toContain('ZAP_TOKEN')
  })

  test('each command has an example in its help', async () => {
    const commands = [['zaps', 'create'], ['zaps', 'edit'], ['zaps', 'list'], ['trigger'], ['runs', 'list'], ['runs', 'show'], ['runs', 'watch'], ['runs', 'replay']]
    for (const command of commands) {
      const help = await zap([...command, '--help'], cleanEnv(stack.apiUrl))
      expect(help.stdout).toContain(`$ zap ${command.join(' ')}`)
    }
  })

  test('an unknown command exits 1 and points at --help', async () => {
    const result = await zap(['nonsense'], cleanEnv(stack.apiUrl))
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain("unknown command 'nonsense'")
  })
})

test('the compiled single binary works like bun cli/src/bin.ts', async () => {
  const outfile = join(mkdtempSync(join(tmpdir(), 'zap-bin-')), 'zap')
  const build = Bun.spawnSync(['bun', 'build', '--compile', binPath, '--outfile', outfile], { stdout: 'pipe', stderr: 'pipe' })
  expect(build.exitCode).toBe(0)
  const ada = await signedUpUser(stack.apiUrl, [outfile])
  const zapJson = await ada.zapJson(['zaps', 'create', '--name', 'Compiled', '--step', 'log:{"message":"hi"}'])
  expect((await ada.zap(['zaps', 'list'])).stdout).toContain(zapJson.id)
}, 30_000)
