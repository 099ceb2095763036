/** The target of the benchmark zap: answers every request with 200 and counts them. */
export function startSink() {
  let received = 0
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      await request.arrayBuffer()
      received++
      return Response.json({ ok: true })
    },
  })
  return { url: `http://127.0.0.1:${server.port}/sink`, received: () => received, stop: () => server.stop(true) }
}
