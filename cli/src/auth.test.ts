import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { statSync } from 'node:fs'
import { join } from 'node:path'
import { binPath, cleanEnv, runZap, signedUpUser, startStack } from '@zap/testkit/cli'

let stack: Awaited<ReturnType<typeof startStack>>
beforeAll(async () => {
  stack = await startStack()
})
afterAll(() => stack.stop())

const zapIn = (env: Record<string, string>) => (args: string[], stdin?: string) => runZap(['bun', binPath], args, env, { stdin })

describe('signup, login, whoami, logout', () => {
  test('signup saves a token that whoami uses, in a config file only the user can read', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const whoami = await ada.zap(['whoami'])
    expect(whoami.exitCode).toBe(0)
    expect(whoami.stdout).toContain(ada.email)
    expect(whoami.stdout).toContain(stack.apiUrl)
    const configFile = join(ada.env.XDG_CONFIG_HOME, 'zap', 'config.json')
    expect(statSync(configFile).mode & 0o777).toBe(0o600)
    expect(await Bun.file(configFile).json()).toMatchObject({ apiUrl: stack.apiUrl, email: ada.email })
  })

  test('whoami --json prints the user', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const user = await ada.zapJson(['whoami'])
    expect(user.email).toBe(ada.email)
    expect(user.name).toBe('Ada')
    expect(user.id).toBeString()
  })

  test('logout forgets the login, then commands say how to log in, and login brings it back', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    expect((await ada.zap(['logout'])).stdout).toContain('Logged out')
    const after = await ada.zap(['zaps', 'list'])
    expect(after.exitCode).toBe(1)
    expect(after.stderr.trim()).toBe('Error: Not logged in. Run: zap login')
    const login = await ada.zap(['login', '--email', ada.email.toUpperCase(), '--password-stdin'], { stdin: `${ada.password}\n` })
    expect(login.exitCode).toBe(0)
    expect(login.stdout).toContain(`Logged in as ${ada.email}`)
    expect((await ada.zap(['whoami'])).stdout).toContain(ada.email)
  })

  test('logout keeps the API address of the login made with --api, so the next login goes there without it', async () => {
    const { XDG_CONFIG_HOME, HOME, PATH } = cleanEnv(stack.apiUrl)
    const zap = zapIn({ XDG_CONFIG_HOME, HOME, PATH })
    const email = `api-${crypto.randomUUID()}@example.com`
    expect((await zap(['--api', stack.apiUrl, 'signup', '--email', email, '--name', 'Ada', '--password-stdin'], 'correct horse battery\n')).exitCode).toBe(0)
    expect((await zap(['logout'])).exitCode).toBe(0)
    const configFile = join(XDG_CONFIG_HOME, 'zap', 'config.json')
    expect(await Bun.file(configFile).json()).toEqual({ apiUrl: stack.apiUrl })
    expect(statSync(configFile).mode & 0o777).toBe(0o600)
    const after = await zap(['whoami'])
    expect(after.stderr.trim()).toBe('Error: Not logged in. Run: zap login')
    const login = await zap(['login', '--email', email, '--password-stdin'], 'correct horse battery\n')
    expect(login.exitCode, login.stderr).toBe(0)
    expect((await zap(['whoami'])).stdout).toContain(stack.apiUrl)
    expect((await zap(['logout'])).stdout).toContain('Logged out')
    expect((await zap(['logout'])).stdout).toContain('Not logged in; nothing to do')
  })

  test('logout ends the saved token on the server, so a copy of it stops working', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const { token } = (await Bun.file(join(ada.env.XDG_CONFIG_HOME, 'zap', 'config.json')).json()) as { token: string }
    const me = () => fetch(`${stack.apiUrl}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } })
    expect((await me()).status).toBe(200)
    const logout = await ada.zap(['logout'])
    expect(logout.exitCode).toBe(0)
    expect(logout.stdout.trim()).toBe('Logged out.')
    expect((await me()).status).toBe(401)
  })

  test('logging out twice is fine', async () => {
    const zap = zapIn(cleanEnv(stack.apiUrl))
    const result = await zap(['logout'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain('Not logged in; nothing to do')
  })

  test('a wrong password is one line and exit 1, and saves nothing', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const env = cleanEnv(stack.apiUrl)
    const result = await zapIn(env)(['login', '--email', ada.email, '--password-stdin'], 'not the password\n')
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe('Error: Wrong email or password')
    expect(await Bun.file(join(env.XDG_CONFIG_HOME, 'zap', 'config.json')).exists()).toBe(false)
  })

  test('signing up with a taken email says to log in instead', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const result = await zapIn(cleanEnv(stack.apiUrl))(['signup', '--email', ada.email, '--name', 'B', '--password-stdin'], 'another password\n')
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('Log in instead')
  })

  test('signing up with a short password names the field', async () => {
    const result = await zapIn(cleanEnv(stack.apiUrl))(['signup', '--email', 'short@example.com', '--name', 'S', '--password-stdin'], 'short\n')
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('password')
    expect(result.stderr.trim().split('\n')).toHaveLength(1)
  })

  test('without a terminal, missing credentials are asked for as flags instead of blocking', async () => {
    const result = await zapIn(cleanEnv(stack.apiUrl))(['login'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr).toContain('--email')
  })

  test('ZAP_TOKEN is used instead of the saved login', async () => {
    const ada = await signedUpUser(stack.apiUrl)
    const result = await zapIn({ ...cleanEnv(stack.apiUrl), ZAP_TOKEN: ada.token })(['whoami'])
    expect(result.exitCode).toBe(0)
    expect(result.stdout).toContain(ada.email)
  })

  test('a bad ZAP_TOKEN is named as the variable at fault, not the saved login', async () => {
    const result = await zapIn({ ...cleanEnv(stack.apiUrl), ZAP_TOKEN: 'not-a-jwt' })(['whoami'])
    expect(result.exitCode).toBe(1)
    expect(result.stderr.trim()).toBe('Error: The ZAP_TOKEN environment variable holds a token the API does not accept (invalid or expired). Set it to a valid token, or unset it to use your saved login.')
  })
})
