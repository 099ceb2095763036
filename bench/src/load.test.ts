import { expect, test } from 'bun:test'
import { generateLoad } from './load.ts'

test('a run of a given number of requests is timed to when they finished, not to the next whole second', async () => {
  const server = Bun.serve({ port: 0, fetch: () => new Response('ok') })
  try {
    const load = await generateLoad({ url: `http://127.0.0.1:${server.port}/`, connections: 10, amount: 500, body: '{}' })
    expect(load.accepted).toBe(500)
    // 500 requests to a local server take well under a second; sampled once a second, they were reported as 1.0x s.
    expect(load.seconds).toBeLessThan(0.9)
    expect(load.perSecond).toBeCloseTo(500 / load.seconds, 0)
  } finally {
    server.stop(true)
  }
})
