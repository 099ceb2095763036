import { afterAll, describe, expect, test } from 'bun:test'
import { gzipSync } from 'node:zlib'
import { startTarget } from '@zap/testkit/target'
import { runHttpStep } from './http.ts'

const target = startTarget()
afterAll(() => target.stop())

const maxResponseBytes = 1_000
const options = { targetScope: 'private' as const, resolve: async () => ['127.0.0.1'], timeoutMs: 5_000, maxResponseBytes, idempotencyKey: 'run:0' }
const output = async (path: string) => (await runHttpStep({ method: 'GET', url: `${target.url}${path}` }, options)).output as { status: number; body: unknown; truncated?: true }

describe('the response an http step keeps', () => {
  test('a JSON body within the cap is kept parsed', async () => {
    target.on('/small', () => Response.json({ ok: true, text: 'é'.repeat(400) }))
    expect(await output('/small')).toMatchObject({ status: 200, body: { ok: true, text: 'é'.repeat(400) } })
  })

  test('a body of a declared length over the cap keeps only the cap, as text', async () => {
    target.on('/declared', () => Response.json({ text: 'd'.repeat(5_000) }))
    const kept = await output('/declared')
    expect(kept.truncated).toBe(true)
    expect(kept.body).toBe(`{"text":"${'d'.repeat(maxResponseBytes - 9)}`)
  })

  test('a streamed body without a length keeps only the cap', async () => {
    target.on('/streamed', () => new Response(new ReadableStream({ pull(controller) { controller.enqueue(new TextEncoder().encode('s'.repeat(600))) } }), { headers: { 'content-type': 'text/plain' } }))
    const kept = await output('/streamed')
    expect(kept.truncated).toBe(true)
    expect(kept.body).toBe('s'.repeat(maxResponseBytes))
  })

  test('a compressed body small on the wire is capped at what it inflates to', async () => {
    const inflated = JSON.stringify({ text: 'z'.repeat(50_000) })
    target.on('/gzip', () => new Response(gzipSync(inflated), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }))
    const kept = await output('/gzip')
    expect(kept.truncated).toBe(true)
    expect(kept.body).toBe(inflated.slice(0, maxResponseBytes))
  })

  test('a compressed body within the cap is kept parsed', async () => {
    target.on('/gzip-small', () => new Response(gzipSync(JSON.stringify({ ok: 1 })), { headers: { 'content-type': 'application/json', 'content-encoding': 'gzip' } }))
    expect(await output('/gzip-small')).toMatchObject({ body: { ok: 1 } })
    expect((await output('/gzip-small')).truncated).toBeUndefined()
  })
})
