import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import { runtimeEnv } from '@zap/testkit/services'

const root = join(import.meta.dir, '..', '..')

// `docker compose` (v2 plugin) or Debian's `docker-compose`: both validate a file without an engine.
function composeCommand() {
  if (Bun.spawnSync(['docker', 'compose', 'version'], { stderr: 'ignore', stdout: 'ignore' }).exitCode === 0) return ['docker', 'compose']
  if (Bun.which('docker-compose')) return ['docker-compose']
  throw new Error('Neither `docker compose` nor `docker-compose` is installed; on Debian: apt-get install docker-compose')
}

function config(env: Record<string, string>) {
  const { JWT_SECRET, ...inherited } = Bun.env
  const result = Bun.spawnSync([...composeCommand(), '-f', join(root, 'compose.yaml'), 'config'], { cwd: root, env: { ...inherited, ...env } })
  return { exitCode: result.exitCode, stdout: result.stdout.toString(), stderr: result.stderr.toString() }
}

describe('compose.yaml', () => {
  test('validates and runs the stack in order: database, migration, then the services', () => {
    const result = config({ JWT_SECRET: 'a'.repeat(32) })
    expect(result.stderr).toBe('')
    expect(result.exitCode).toBe(0)
    const { services } = Bun.YAML.parse(result.stdout) as { services: Record<string, any> }
    expect(Object.keys(services).sort()).toEqual(['api', 'hooks', 'kafka', 'migrate', 'postgres', 'processor', 'worker'])
    expect(services.worker.deploy.replicas).toBe(2)
    expect(services.migrate.depends_on).toEqual({ postgres: { condition: 'service_healthy' } })
    expect(services.processor.depends_on).toMatchObject({ migrate: { condition: 'service_completed_successfully' }, kafka: { condition: 'service_healthy' } })
    for (const name of ['postgres', 'kafka', 'api', 'hooks', 'processor', 'worker']) expect(services[name].healthcheck).toBeDefined()
    expect([services.hooks.environment.METRICS_PORT, services.processor.environment.METRICS_PORT, services.worker.environment.METRICS_PORT].map(String)).toEqual(['9464', '9464', '9464'])
    // Compose prints ports in the long syntax (v2, v1.29) or as written.
    const published = (port: unknown) => (typeof port === 'object' && port !== null ? `${(port as { published: unknown }).published}:${(port as { target: unknown }).target}` : String(port))
    expect(services.hooks.ports.map(published)).toEqual(['3002:3002'])
    expect(services.api.environment.JWT_SECRET).toBe('a'.repeat(32))
  })

  test('refuses to start without a JWT secret instead of baking one in', () => {
    const result = config({})
    expect(result.exitCode).not.toBe(0)
    expect(result.stderr).toContain('JWT_SECRET')
  })
})

describe('JavaScriptCore settings', () => {
  const settings = Object.entries(runtimeEnv).map(([name, value]) => `${name}=${value}`)

  test('the image, the start scripts and the tests run the services with the same ones', async () => {
    const dockerfile = await Bun.file(join(root, 'Dockerfile')).text()
    const imageEnv = dockerfile.split('\n').filter((line) => line.startsWith('ENV ')).flatMap((line) => line.slice(4).trim().split(/\s+/))
    expect(imageEnv).toEqual(expect.arrayContaining(settings))
    const { scripts } = await Bun.file(join(root, 'package.json')).json()
    for (const service of ['api', 'hooks', 'processor', 'worker']) expect(scripts[`start:${service}`]).toBe(`${settings.join(' ')} bun ${service}/src/main.ts`)
  })

  test('are options this Bun knows (an unknown one stops it at start)', () => {
    const result = Bun.spawnSync([process.execPath, '-e', 'console.log("started")'], { env: { ...Bun.env, ...runtimeEnv } })
    expect(result.stderr.toString()).toBe('')
    expect(result.stdout.toString().trim()).toBe('started')
    const unknown = Bun.spawnSync([process.execPath, '-e', 'console.log("started")'], { env: { ...Bun.env, BUN_JSC_noSuchOption: '1' } })
    expect(unknown.exitCode).not.toBe(0)
  })
})
