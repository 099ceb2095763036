export type ReceivedRequest = { method: string; path: string; headers: Record<string, string>; body: string; json: unknown; at: number }
type Responder = (request: ReceivedRequest, count: number) => Response | Promise<Response>

/** A local HTTP server standing in for the services zaps call; each path can be told how to answer. */
export function startTarget() {
  const received: ReceivedRequest[] = []
  const responders = new Map<string, Responder>()
  const server = Bun.serve({
    port: 0,
    hostname: '127.0.0.1',
    // Some tests hold a response for longer than Bun's default 10 s.
    idleTimeout: 60,
    async fetch(request) {
      const url = new URL(request.url)
      const body = await request.text()
      let json: unknown = null
      try {
        json = JSON.parse(body)
      } catch {}
      const entry = { method: request.method, path: url.pathname, headers: Object.fromEntries(request.headers), body, json, at: Date.now() }
      received.push(entry)
      const responder = responders.get(url.pathname)
      const count = received.filter((request) => request.path === url.pathname).length
      return responder ? responder(entry, count) : Response.json({ ok: true, path: url.pathname, count })
    },
  })
  return {
    url: `http://127.0.0.1:${server.port}`,
    received,
    on: (path: string, responder: Responder) => responders.set(path, responder),
    requestsTo: (path: string) => received.filter((request) => request.path === path),
    stop: () => server.stop(true),
  }
}
