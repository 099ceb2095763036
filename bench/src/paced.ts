/**
 * An open-loop load at a constant arrival rate: request i leaves at start + i / rate whether or not
 * earlier ones were answered. autocannon's --overallRate sends each second's quota in a burst at the
 * start of the second, which measures queueing behind the burst rather than the pipeline.
 * Run as its own process: bun paced.ts URL RATE AMOUNT BODY; prints a JSON summary.
 */
export type PacedResult = { requests: number; accepted: number; rejected: number; errors: number; perSecond: number; lateMs: number }

export async function sendPaced(url: string, rate: number, amount: number, body: string): Promise<PacedResult> {
  const result = { requests: 0, accepted: 0, rejected: 0, errors: 0 }
  const inFlight = new Set<Promise<void>>()
  const started = performance.now()
  let lateMs = 0
  for (let sent = 0; sent < amount; ) {
    const due = Math.min(amount, Math.floor(((performance.now() - started) * rate) / 1000) + 1)
    lateMs = Math.max(lateMs, performance.now() - started - (sent * 1000) / rate)
    for (; sent < due; sent++) {
      const request = send(url, body, result).finally(() => inFlight.delete(request))
      inFlight.add(request)
    }
    await Bun.sleep(Math.max(0, (sent * 1000) / rate - (performance.now() - started)))
  }
  await Promise.all(inFlight)
  return { ...result, perSecond: result.accepted / ((performance.now() - started) / 1000), lateMs }
}

async function send(url: string, body: string, result: Omit<PacedResult, 'perSecond' | 'lateMs'>) {
  result.requests++
  try {
    const response = await fetch(url, { method: 'POST', headers: { 'content-type': 'application/json' }, body })
    await response.arrayBuffer()
    if (response.ok) result.accepted++
    else result.rejected++
  } catch {
    result.errors++
  }
}

if (import.meta.main) {
  const [url, rate, amount, body] = process.argv.slice(2)
  console.log(JSON.stringify(await sendPaced(url!, Number(rate), Number(amount), body!)))
}
