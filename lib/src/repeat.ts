/**
 * Runs `pass` again and again, `intervalMs` apart, until stopped. `pass` should not throw; it is told
 * whether to go on, so a long pass can end early. `stop()` cuts the wait short and waits for the pass in hand.
 */
export function repeatUntilStopped(pass: (running: () => boolean) => Promise<void>, intervalMs: number) {
  let running = true
  let wake = () => {}
  const done = (async () => {
    while (running) {
      await pass(() => running)
      if (running) {
        await new Promise<void>((resolve) => {
          const timer = setTimeout(resolve, intervalMs)
          wake = () => {
            clearTimeout(timer)
            resolve()
          }
        })
      }
    }
  })()
  return {
    async stop() {
      running = false
      wake()
      await done
    },
  }
}
