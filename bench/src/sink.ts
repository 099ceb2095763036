/**
 * The target of the benchmark zap: answers every request with 200. It runs as its own process, as a
 * real target would: in the bench's process, each synchronous pass of the memory sampler over /proc
 * held every step's answer (at 500/s the steps' p90 went from 5–9 ms to 13–81 ms, lab rounds).
 * Run as: bun sink.ts (prints its URL, and exits when its standard input closes).
 */
export async function startSink() {
  const child = Bun.spawn([process.execPath, import.meta.path], { stdin: 'pipe', stdout: 'pipe', stderr: 'inherit' })
  const reader = child.stdout.getReader()
  let output = ''
  while (!output.includes('\n')) {
    const { value, done } = await reader.read()
    if (done) throw new Error(`the sink exited with ${await child.exited} before it listened`)
    output += new TextDecoder().decode(value)
  }
  reader.releaseLock()
  return {
    url: output.trim(),
    async stop() {
      child.kill()
      await child.exited
    },
  }
}

if (import.meta.main) {
  const server = Bun.serve({
    hostname: '127.0.0.1',
    port: 0,
    async fetch(request) {
      await request.arrayBuffer()
      return Response.json({ ok: true })
    },
  })
  console.log(`http://127.0.0.1:${server.port}/sink`)
  // The bench holds this pipe open; it closes when the bench ends, however it ends.
  process.stdin.on('end', () => process.exit(0))
  process.stdin.resume()
}
