import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { connect } from 'node:net'
import { createZap, signUp } from '@zap/testkit/http'
import { startService, waitUntil, type RunningService } from '@zap/testkit/services'

let hooks: RunningService
let api: RunningService

beforeAll(async () => {
  ;[hooks, api] = await Promise.all([startService('hooks'), startService('api')])
})

afterAll(async () => {
  await Promise.all([hooks?.stop(), api?.stop()])
})

/** Sends the head of a request and part of its body, then closes the connection. */
async function sendHalfAndLeave(port: number, head: string) {
  const socket = connect(port, '127.0.0.1')
  await new Promise((resolve) => socket.once('connect', resolve))
  socket.write(head)
  await Bun.sleep(100)
  socket.destroy()
}

const requests = (path: string) => [
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nContent-Length: 5000\r\n\r\n{"a":"`,
  `POST ${path} HTTP/1.1\r\nHost: localhost\r\nContent-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n6\r\n{"a":"\r\n`,
]

describe('clients that disconnect mid-body', () => {
  test('cost at most one short log line each and never a stack trace, in hooks and in the API', async () => {
    const { token } = await signUp()
    const zap = await createZap(token)
    const targets: [RunningService, string][] = [
      [hooks, `/hooks/${zap.id}`],
      [api, '/api/v1/auth/login'],
      [api, '/api/v1/zaps'],
    ]
    for (const [service, path] of targets) {
      // Lines reach the output within 250 ms: the count starts after a marker request's line, so none of the earlier ones.
      const marker = crypto.randomUUID()
      await fetch(`${service.url}/no-such-route`, { headers: { 'x-request-id': marker } })
      await waitUntil(() => service.output().includes(marker), 'the marker request to be logged')
      const before = service.output().length
      for (let i = 0; i < 10; i++) for (const head of requests(path)) await sendHalfAndLeave(service.port!, head)
      await waitUntil(() => service.output().slice(before).split('\n').filter(Boolean).length >= 20, `${path} to log its requests`, 5_000).catch(() => {})
      const lines = service.output().slice(before).split('\n').filter(Boolean)
      expect(lines.length).toBeLessThanOrEqual(20)
      for (const line of lines) {
        expect(line.length).toBeLessThan(400)
        expect(line).not.toMatch(/\n\s+at |"stack"|\.ts:\d+/)
      }
      expect((await fetch(`${service.url}/healthz`)).status).toBe(200)
    }
  })
})
