import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, readFile, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { runHttpStep } from './steps/http.ts'
import { BlockedTargetError, fetchFrom, resolveTarget, resolveWithDns, type Resolve } from './targets.ts'

const refused = [
  'http://127.0.0.1/',
  'http://localhost:8080/',
  'http://[::1]/',
  'http://10.1.2.3/',
  'http://172.16.0.1/',
  'http://192.168.1.1/',
  'http://100.64.0.1/',
  'http://169.254.169.254/latest/meta-data/',
  'http://[fd00:ec2::254]/',
  'http://[fe80::1]/',
  'http://[::ffff:127.0.0.1]/',
  'http://[::ffff:a9fe:a9fe]/',
  'http://0.0.0.0/',
  'http://[::127.0.0.1]/',
  'http://[::a9fe:a9fe]/',
  'http://[::]/',
  'http://[64:ff9b::7f00:1]/',
  'http://[64:ff9b:1::a00:1]/',
  'http://[2002:7f00:1::]/',
]

const check = (url: string, allowPrivate = false, resolve: Resolve = resolveWithDns) => resolveTarget(new URL(url), allowPrivate ? 'private' : 'public', resolve)

describe('outgoing request guard', () => {
  for (const url of refused) {
    test(`${url} is refused by default`, async () => {
      await expect(check(url)).rejects.toBeInstanceOf(BlockedTargetError)
    })
  }

  test('public addresses are allowed', async () => {
    expect(await check('https://93.184.215.14/')).toEqual(['93.184.215.14'])
    expect(await check('http://[2606:2800:21f:cb07:6820:80da:af6b:8b2c]/')).toEqual(['2606:2800:21f:cb07:6820:80da:af6b:8b2c'])
  })

  test('a name is refused when any of its addresses is private', async () => {
    const resolve: Resolve = async () => ['93.184.215.14', '127.0.0.1']
    await expect(check('http://mixed.test/', false, resolve)).rejects.toThrow('resolves to 127.0.0.1 (loopback)')
  })

  test('private addresses are allowed when explicitly enabled', async () => {
    expect(await check('http://127.0.0.1/', true)).toEqual(['127.0.0.1'])
  })

  test("the loopback scope (bun run dev) reaches this machine's loopback and still refuses private, link-local and metadata addresses", async () => {
    const inScope = (url: string, resolve: Resolve = resolveWithDns) => resolveTarget(new URL(url), 'loopback', resolve)
    expect(await inScope('http://127.0.0.1:8080/')).toEqual(['127.0.0.1'])
    expect(await inScope('http://[::1]/')).toEqual(['::1'])
    expect(await inScope('http://localhost/', async () => ['::1', '127.0.0.1'])).toEqual(['::1', '127.0.0.1'])
    expect(await inScope('https://93.184.215.14/')).toEqual(['93.184.215.14'])
    for (const url of ['http://10.1.2.3/', 'http://192.168.1.1/', 'http://169.254.169.254/latest/meta-data/', 'http://[fd00:ec2::254]/', 'http://[fe80::1]/', 'http://0.0.0.0/', 'http://[::127.0.0.1]/', 'http://[64:ff9b::7f00:1]/']) {
      await expect(inScope(url)).rejects.toBeInstanceOf(BlockedTargetError)
    }
    await expect(inScope('http://rebound.test/', async () => ['127.0.0.1', '169.254.169.254'])).rejects.toThrow('resolves to 169.254.169.254 (linkLocal)')
  })

  test('schemes other than http and https are refused even when private targets are allowed', async () => {
    await expect(check('file:///etc/passwd', true)).rejects.toThrow('Only http and https')
  })
})

describe('the address checked is the address connected to', () => {
  const hits = { checked: 0, rebound: 0, inside: 0 }
  const serve = (hostname: string, port: number, name: keyof typeof hits) =>
    Bun.serve({ hostname, port, fetch: (request) => (hits[name]++, Response.json({ reached: name, host: request.headers.get('host') })) })
  const checked = serve('127.0.0.2', 0, 'checked')
  const servers = [checked, serve('127.0.0.1', checked.port!, 'rebound'), serve('127.0.0.3', checked.port!, 'inside')]
  const options = (resolve: Resolve, allowPrivateTargets: boolean) => ({ targetScope: allowPrivateTargets ? ('private' as const) : ('public' as const), resolve, timeoutMs: 2_000, maxResponseBytes: 10_000, idempotencyKey: 'run:0' })

  afterAll(() => {
    for (const server of servers) server.stop(true)
  })

  test('a name whose answer changes after the check is connected to at the checked address, resolved once', async () => {
    let calls = 0
    const flipping: Resolve = async () => (calls++ === 0 ? ['127.0.0.2'] : ['127.0.0.1'])
    for (let attempt = 0; attempt < 5; attempt++) {
      calls = 0
      const outcome = await runHttpStep({ method: 'GET', url: `http://rebind.test:${checked.port}/secret` }, options(flipping, true))
      expect(outcome).toMatchObject({ kind: 'succeeded', output: { status: 200, body: { reached: 'checked', host: `rebind.test:${checked.port}` } } })
      expect(calls).toBe(1)
    }
    expect(hits).toMatchObject({ checked: 5, rebound: 0 })
  })

  test('a name answering a private address is refused and nothing is sent', async () => {
    const outcome = await runHttpStep({ method: 'POST', url: `http://inside.test:${checked.port}/`, body: { x: 1 } }, options(async () => ['127.0.0.3'], false))
    expect(outcome).toMatchObject({ kind: 'failed', retryable: false })
    expect(outcome.kind === 'failed' && outcome.error).toContain('127.0.0.3 (loopback)')
    expect(hits.inside).toBe(0)
  })

  test('the Host header is the URL’s, whatever the step’s headers say', async () => {
    const outcome = await runHttpStep({ method: 'GET', url: `http://named.test:${checked.port}/`, headers: { Host: 'internal.admin' } }, options(async () => ['127.0.0.2'], true))
    expect(outcome).toMatchObject({ kind: 'succeeded', output: { body: { host: `named.test:${checked.port}` } } })
  })
})

describe('HTTPS to a pinned address', () => {
  let dir: string
  let server: ReturnType<typeof Bun.serve>

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'zap-tls-'))
    const openssl = Bun.spawnSync(['openssl', 'req', '-x509', '-newkey', 'rsa:2048', '-nodes', '-days', '1', '-subj', '/CN=pinned.test',
      '-addext', 'subjectAltName=DNS:pinned.test', '-keyout', join(dir, 'key.pem'), '-out', join(dir, 'cert.pem')], { stderr: 'pipe' })
    if (openssl.exitCode !== 0) throw new Error(`openssl failed: ${openssl.stderr.toString()}`)
    server = Bun.serve({ hostname: '127.0.0.1', port: 0, tls: { key: Bun.file(join(dir, 'key.pem')), cert: Bun.file(join(dir, 'cert.pem')) }, fetch: (request) => Response.json({ host: request.headers.get('host') }) })
  })

  afterAll(async () => {
    server?.stop(true)
    await rm(dir, { recursive: true, force: true })
  })

  test('the certificate is verified against the name, not the address', async () => {
    const ca = await readFile(join(dir, 'cert.pem'), 'utf8')
    const init = () => ({ headers: new Headers(), tls: { ca } })
    const good = await fetchFrom(new URL(`https://pinned.test:${server.port}/`), ['127.0.0.1'], init())
    expect(await good.json()).toEqual({ host: `pinned.test:${server.port}` })
    await expect(fetchFrom(new URL(`https://impostor.test:${server.port}/`), ['127.0.0.1'], init())).rejects.toThrow('ERR_TLS_CERT_ALTNAME_INVALID')
  })
})
