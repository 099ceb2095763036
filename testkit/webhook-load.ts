/** What one webhook of a steady load got back: a status and error code, or a client-side failure. */
export type WebhookAnswer = { key: string; n: number; sentAt: number; ms: number; status: number | 'timeout' | 'refused' | 'error'; code?: string; message?: string; runId?: string }

/**
 * Sends webhooks to `url` at `perSecond`, each with its own Idempotency-Key (`<prefix>-<n>`) and
 * `{ n }` as its body, until stopped, and records every answer. A request not answered within
 * `clientTimeoutMs` counts as a timeout, as it would for a sender that gives up.
 */
export function startWebhookLoad(url: string, { perSecond, prefix, clientTimeoutMs = 10_000 }: { perSecond: number; prefix: string; clientTimeoutMs?: number }) {
  const answers: WebhookAnswer[] = []
  const inFlight = new Set<Promise<void>>()
  let n = 0
  let running = true

  async function send(n: number) {
    const key = `${prefix}-${n}`
    const sentAt = Date.now()
    const answer: WebhookAnswer = { key, n, sentAt, ms: 0, status: 'error' }
    try {
      const response = await fetch(url, {
        method: 'POST',
        body: JSON.stringify({ n }),
        headers: { 'content-type': 'application/json', 'idempotency-key': key },
        signal: AbortSignal.timeout(clientTimeoutMs),
      })
      const body = (await response.json().catch(() => ({}))) as { runId?: string; error?: { code: string; message: string } }
      Object.assign(answer, { status: response.status, code: body.error?.code, message: body.error?.message, runId: body.runId })
    } catch (error) {
      const name = (error as Error).name
      const code = (error as { code?: string }).code
      answer.status = name === 'TimeoutError' ? 'timeout' : code === 'ConnectionRefused' || code === 'ECONNREFUSED' ? 'refused' : 'error'
      answer.code = code ?? name
    }
    answer.ms = Date.now() - sentAt
    answers.push(answer)
  }

  // Paced from the start time, so a slow answer never delays the next request.
  const startedAt = performance.now()
  const pacing = (async () => {
    while (running) {
      const request = send(n++)
      inFlight.add(request)
      request.finally(() => inFlight.delete(request))
      const nextAt = startedAt + (n * 1000) / perSecond
      await Bun.sleep(Math.max(0, nextAt - performance.now()))
    }
  })()

  return {
    answers,
    /** Stops sending and waits for every request in flight to be answered. */
    async stop() {
      running = false
      await pacing
      await Promise.all(inFlight)
      return answers
    },
  }
}
