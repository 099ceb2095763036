import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { mkdtemp, rm } from 'node:fs/promises'
import { join } from 'node:path'
import { startService, type RunningService } from '@zap/testkit/services'

const apiDir = join(import.meta.dir, '..')
const root = join(apiDir, '..')
const bin = (name: string) => join(apiDir, 'node_modules', '.bin', name)

type Operation = {
  operationId?: string
  summary?: string
  tags?: string[]
  security?: unknown[]
  requestBody?: { required?: boolean; content: Record<string, unknown> }
  parameters?: { name: string; in: string; schema: { type?: string; default?: unknown } }[]
  responses?: Record<string, { content?: Record<string, { schema?: unknown }> }>
}
type Document = { servers?: { url: string }[]; paths: Record<string, Record<string, Operation>> }

let hooks: RunningService
let api: RunningService
let dir: string

beforeAll(async () => {
  hooks = await startService('hooks')
  api = await startService('api', { PUBLIC_HOOKS_URL: hooks.url! })
  // Inside the workspace, so the program resolves openapi-fetch and the Bun types like any package here.
  dir = await mkdtemp(join(apiDir, '.typed-client-'))
}, 60_000)

afterAll(async () => {
  await Promise.all([api?.stop(), hooks?.stop()])
  if (dir) await rm(dir, { recursive: true, force: true })
})

const documentOf = async (service: RunningService) => (await (await fetch(`${service.url}/openapi.json`)).json()) as Document
const operations = (document: Document) =>
  Object.entries(document.paths).flatMap(([path, item]) => Object.entries(item).map(([method, operation]) => ({ name: `${method} ${path}`, ...operation })))

async function run(command: string[], env: Record<string, string> = {}) {
  const child = Bun.spawn(command, { cwd: dir, env: { ...Bun.env, ...env }, stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, code] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  return { code, stdout, stderr, output: `${stdout}\n${stderr}` }
}

describe('the OpenAPI documents', () => {
  test('every API operation has a chosen id, a summary, tags, security and typed success and error responses', async () => {
    const document = await documentOf(api)
    expect(document.servers?.length).toBeGreaterThan(0)
    const all = operations(document)
    expect(all.map((operation) => operation.operationId).sort()).toEqual([
      'checkLiveness', 'checkReadiness', 'createZap', 'deleteZap', 'getCurrentUser', 'getRun', 'getStatus', 'getZap', 'listRejections', 'listRuns',
      'listStepTypes', 'listZaps', 'logIn', 'logOut', 'replayFailedRuns', 'replayRun', 'rotateAlertSecret', 'signUp', 'updateZap',
    ])
    for (const operation of all) {
      expect({ [operation.name]: Boolean(operation.summary && operation.tags?.length && Array.isArray(operation.security)) }).toEqual({ [operation.name]: true })
      const statuses = Object.keys(operation.responses ?? {})
      expect(statuses.some((status) => status.startsWith('2'))).toBe(true)
      for (const status of statuses.filter((status) => status !== '204')) expect(operation.responses![status]!.content?.['application/json']?.schema).toBeDefined()
      if (operation.requestBody) expect(Object.keys(operation.requestBody.content)).toEqual(['application/json'])
    }
    const byId = Object.fromEntries(all.map((operation) => [operation.operationId ?? operation.name, operation]))
    expect(byId.signUp!.security).toEqual([])
    expect(byId.createZap!.security).toEqual([{ bearer: [] }])
    expect(Object.keys(byId.replayRun!.responses!)).toEqual(['202', '400', '401', '404', '409', '413', '415'])
    expect(Object.keys(byId.logIn!.responses!)).toContain('429')
    expect(byId.replayRun!.requestBody).toMatchObject({ required: false, content: { 'application/json': { schema: { type: 'object' } } } })
    expect(byId.createZap!.requestBody).toMatchObject({ required: true, content: { 'application/json': { schema: { type: 'object' } } } })
    expect(byId.listRuns!.parameters!.find((parameter) => parameter.name === 'limit')!.schema).toMatchObject({ type: 'integer', default: 50 })
  })

  test('the webhook receiver describes /hooks/{zapId} with its headers, statuses and signature scheme', async () => {
    const operation = (await documentOf(hooks)).paths['/hooks/{zapId}']!.post!
    expect(operation.operationId).toBe('receiveWebhook')
    expect(operation.parameters!.map((parameter) => `${parameter.in} ${parameter.name}`)).toEqual([
      'path zapId', 'header idempotency-key', 'header webhook-id', 'header webhook-timestamp', 'header webhook-signature',
      'header svix-id', 'header svix-timestamp', 'header svix-signature', 'header x-hub-signature-256', 'header x-github-delivery',
      'header stripe-signature', 'header x-shopify-hmac-sha256', 'header x-shopify-webhook-id', 'header x-slack-signature',
      'header x-slack-request-timestamp',
    ])
    expect(Object.keys(operation.responses!).sort()).toEqual(['200', '202', '400', '401', '404', '409', '413', '429', '503'])
    expect(JSON.stringify(operation)).toContain('Standard Webhooks')
    for (const scheme of ['github', 'stripe', 'shopify', 'slack', 'hmac', 'basic', 'bearer']) expect(JSON.stringify(operation)).toContain(`\`${scheme}\``)
    expect((await documentOf(hooks)).paths['/hooks/{zapId}']!.get!.operationId).toBe('answerSubscriptionCheck')
  })

  test('both pass redocly lint with the recommended rules', async () => {
    await Bun.write(join(dir, 'api.json'), JSON.stringify(await documentOf(api)))
    await Bun.write(join(dir, 'hooks.json'), JSON.stringify(await documentOf(hooks)))
    const lint = await run(['bun', bin('redocly'), 'lint', '--extends=recommended', 'api.json', 'hooks.json'], {
      REDOCLY_TELEMETRY: 'off',
      REDOCLY_SUPPRESS_UPDATE_NOTICE: 'true',
    })
    expect(lint.output).toContain('Your API descriptions are valid')
    expect(lint.code).toBe(0)
  }, 60_000)

  test('a client generated from the live documents signs up, creates a zap, triggers it and reads the run, type-checked without casts', async () => {
    for (const [service, file] of [[api, 'api.d.ts'], [hooks, 'hooks.d.ts']] as const) {
      const generated = await run(['bun', bin('openapi-typescript'), `${service.url}/openapi.json`, '-o', file])
      expect({ file, code: generated.code, output: generated.code === 0 ? '' : generated.output }).toEqual({ file, code: 0, output: '' })
    }
    const program = await Bun.file(join(apiDir, 'typed-client', 'program.ts')).text()
    const code = program.split('\n').filter((line) => !line.startsWith('import ')).join('\n')
    expect(code).not.toMatch(/\bas\b|@ts-|\bany\b/)
    await Bun.write(join(dir, 'program.ts'), program)
    await Bun.write(join(dir, 'urls.ts'), `export const apiUrl = ${JSON.stringify(api.url)}\nexport const hooksUrl = ${JSON.stringify(hooks.url)}\n`)
    // Browser and ES types only: the program needs nothing from Bun, and the check stays quick on a busy machine.
    await Bun.write(
      join(dir, 'tsconfig.json'),
      JSON.stringify({
        compilerOptions: {
          strict: true, noEmit: true, target: 'ESNext', module: 'Preserve', moduleResolution: 'bundler',
          lib: ['ESNext', 'DOM'], types: [], skipLibCheck: true, noUncheckedIndexedAccess: true,
        },
        files: ['program.ts'],
      }),
    )
    const typecheck = await run(['bun', join(root, 'node_modules', 'typescript', 'bin', 'tsc'), '-p', 'tsconfig.json'])
    expect({ code: typecheck.code, output: typecheck.code === 0 ? '' : typecheck.output }).toEqual({ code: 0, output: '' })

    const result = await run(['bun', 'program.ts'])
    expect({ code: result.code, stderr: result.code === 0 ? '' : result.stderr }).toEqual({ code: 0, stderr: '' })
    const shown = JSON.parse(result.stdout)
    expect(shown).toMatchObject({ status: 'queued', steps: ['log'], trigger: { name: 'Ada' } })
    expect(shown.webhookUrl).toBe(`${hooks.url}/hooks/${shown.zapId}`)
    expect(new Date(shown.createdAt).toISOString()).toBe(shown.createdAt)
  }, 300_000)
})
