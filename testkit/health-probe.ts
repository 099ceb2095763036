export {}

// Polls /healthz of each URL given as an argument and prints each answer time in milliseconds, one per
// line, until it is stopped. It runs as its own process so the fuzzer's own work never delays a probe.
const urls = process.argv.slice(2)
for (;;) {
  for (const url of urls) {
    const started = performance.now()
    const response = await fetch(`${url}/healthz`)
    await response.text()
    console.log(response.ok ? (performance.now() - started).toFixed(2) : 'failed')
  }
  await Bun.sleep(20)
}
