import { binPath, leakMarker } from './cli.ts'

export const keys = { enter: '\r', down: '\x1b[B', ctrlC: '\x03', escape: '\x1b' }

const ansi = /\x1b\[[0-9;?]*[ -/]*[@-~]|\x1b\][^\x07]*\x07|\x1b[()][0-9A-Za-z]|\x1b[=>78]/g

type TerminalOptions = { keepEscapes?: boolean; cwd?: string }

/** Runs `zap ...` in a pseudo-terminal, so the CLI sees a TTY and prompts. */
export function zapInTerminal(args: string[], env: Record<string, string>, options: TerminalOptions = {}) {
  return inTerminal([process.execPath, binPath, ...args].map(shellQuote).join(' '), env, options)
}

/**
 * Runs a shell command line in a pseudo-terminal made by util-linux `script` (present on Debian and
 * most Linux); `waitFor` reads the screen text with escape codes removed.
 */
export function inTerminal(commandLine: string, env: Record<string, string>, options: TerminalOptions = {}) {
  const command = `stty cols 120 rows 40; exec ${commandLine}`
  const child = Bun.spawn(['script', '--quiet', '--flush', '--return', '--command', command, '/dev/null'], {
    cwd: options.cwd,
    env: { ...env, TERM: 'xterm-256color', ...leakMarker() },
    stdin: 'pipe',
    stdout: 'pipe',
    stderr: 'pipe',
  })
  let screen = ''
  let seenUpTo = 0
  const reading = (async () => {
    for await (const chunk of child.stdout.pipeThrough(new TextDecoderStream())) screen += options.keepEscapes ? chunk : chunk.replace(ansi, '')
  })()
  // A prompt reads keys once it has drawn itself: the screen has been still for a moment.
  const settled = async (deadline: number) => {
    for (let length = -1; length !== screen.length && Date.now() < deadline; ) {
      length = screen.length
      await Bun.sleep(100)
    }
  }
  return {
    /** Waits until `text` appears after what earlier waits matched, and the screen stops changing. */
    async waitFor(text: string, timeoutMs = 10_000) {
      const deadline = Date.now() + timeoutMs
      while (Date.now() < deadline) {
        const at = screen.indexOf(text, seenUpTo)
        if (at !== -1) {
          seenUpTo = at + text.length
          await settled(deadline)
          return
        }
        if (child.exitCode !== null) break
        await Bun.sleep(20)
      }
      // Killing `script` closes the terminal, which hangs up the CLI; left alone, both would outlive the test.
      child.kill('SIGKILL')
      throw new Error(`"${text}" did not appear on the terminal. It shows:\n${screen.slice(seenUpTo)}`)
    },
    async type(...input: string[]) {
      for (const key of input) {
        child.stdin.write(key)
        child.stdin.flush()
        await Bun.sleep(30)
      }
    },
    async exited() {
      const exitCode = await child.exited
      await reading
      return exitCode
    },
    screen: () => screen,
  }
}

const shellQuote = (value: string) => `'${value.replaceAll("'", `'\\''`)}'`
