import { fileURLToPath } from 'node:url'

/** Either `seconds` of load, or exactly `amount` requests, every response awaited, so each 2xx is counted. */
export type LoadOptions = { url: string; connections: number; body: string; rate?: number } & ({ seconds: number } | { amount: number })
export type LoadResult = { requests: number; accepted: number; rejected: number; errors: number; seconds: number; perSecond: number; p50: number; p99: number }

const autocannon = fileURLToPath(import.meta.resolve('autocannon'))

/** POSTs `body` to `url` with autocannon, in its own Node process so it does not share the bench's event loop. */
export async function generateLoad({ url, connections, body, rate, ...length }: LoadOptions): Promise<LoadResult> {
  // autocannon ends a run at its next sample tick: at its default of one a second, `amount` requests
  // finished in 3.1 s were reported as taking 4.02 s. Sampling every 10 ms bounds that to 10 ms.
  const args = ['-j', '-L', '10', '-c', String(connections), '-m', 'POST', '-H', 'content-type=application/json', '-b', body]
  args.push(...('amount' in length ? ['-a', String(length.amount)] : ['-d', String(length.seconds)]))
  if (rate) args.push('-R', String(rate))
  const child = Bun.spawn([runtime(), autocannon, ...args, url], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  // Seen on a saturated machine: exit 0 with nothing printed.
  if (exitCode !== 0 || stdout.trim() === '') throw new Error(`autocannon exited with ${exitCode} and ${stdout.trim() === '' ? 'no result' : 'a result'}: ${stderr.slice(-500)}`)
  const result = JSON.parse(stdout)
  const accepted = result['2xx'] as number
  return {
    requests: result.requests.total,
    accepted,
    rejected: result.non2xx,
    errors: result.errors + result.timeouts,
    seconds: result.duration,
    perSecond: accepted / result.duration,
    p50: result.latency.p50,
    p99: result.latency.p99,
  }
}

// autocannon is written for Node; Bun runs it when Node is missing.
const runtime = () => Bun.which('node') ?? process.execPath
