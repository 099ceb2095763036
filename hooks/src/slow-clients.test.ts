import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect, type Socket } from 'node:net'
import { createZap, signUp } from '@zap/testkit/http'
import { startService, type RunningService } from '@zap/testkit/services'

const requestTimeoutSeconds = 2
const maxPerAddress = 40
const tricklers = 200

let hooks: RunningService

beforeAll(async () => {
  hooks = await startService('hooks', { HOOKS_REQUEST_TIMEOUT_S: String(requestTimeoutSeconds), HOOKS_MAX_REQUESTS_PER_ADDRESS: String(maxPerAddress) })
})

afterAll(async () => {
  await hooks?.stop()
})

type Trickler = { socket: Socket; answer: string; closedAfterMs: Promise<number> }

/** A raw connection from `localAddress` that sends a request's head, then one byte of its body every 200 ms. */
async function trickle(port: number, path: string, localAddress: string): Promise<Trickler> {
  const socket = connect({ port, host: '127.0.0.1', localAddress })
  const startedAt = Date.now()
  const trickler: Trickler = { socket, answer: '', closedAfterMs: new Promise((resolve) => socket.once('close', () => resolve(Date.now() - startedAt))) }
  socket.on('data', (chunk) => (trickler.answer += chunk))
  socket.on('error', () => {})
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(`POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 100000\r\n\r\n{"a":"`)
  const drip = setInterval(() => socket.writable && socket.write('a'), 200)
  socket.once('close', () => clearInterval(drip))
  return trickler
}

describe('clients that trickle their bodies', () => {
  test('are refused at once past the per-address limit, cut within the request timeout, and never keep a new client waiting', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const startedAt = Date.now()
    // 127.0.0.2 is the slow sender; the test's own requests come from 127.0.0.1, another address.
    const slow = await Promise.all(Array.from({ length: tricklers }, () => trickle(hooks.port!, `/hooks/${zap.id}`, '127.0.0.2')))

    const healthStartedAt = performance.now()
    const health = await fetch(`${hooks.url}/healthz`, { signal: AbortSignal.timeout(5_000) })
    expect(health.status).toBe(200)
    expect(performance.now() - healthStartedAt).toBeLessThan(1_000)
    const webhook = await fetch(`${hooks.url}/hooks/${zap.id}`, { method: 'POST', body: '{"name":"Ada"}', headers: { 'content-type': 'application/json' }, signal: AbortSignal.timeout(5_000) })
    expect(webhook.status).toBe(202)

    const closedAfter = await Promise.all(slow.map((trickler) => trickler.closedAfterMs))
    const refused = slow.filter((trickler) => trickler.answer.startsWith('HTTP/1.1 429'))
    expect(refused.length).toBe(tricklers - maxPerAddress)
    expect(refused[0]!.answer).toContain('too_many_in_flight')
    expect(refused[0]!.answer.toLowerCase()).toContain('connection: close')
    // Bun checks its timeout every few seconds: a cut comes within the timeout and that check (12 s and more before this bound existed).
    expect(Math.max(...closedAfter)).toBeLessThan(requestTimeoutSeconds * 1000 + 6_000)
    expect(Date.now() - startedAt).toBeLessThan(requestTimeoutSeconds * 1000 + 8_000)
    // The slots of the cut connections are free again.
    const again = await trickle(hooks.port!, `/hooks/${zap.id}`, '127.0.0.2')
    await Bun.sleep(500)
    again.socket.destroy()
    expect(again.answer).toBe('')
  }, 30_000)
})
