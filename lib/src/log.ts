import pino from 'pino'
import type pinoPretty from 'pino-pretty'

export type Logger = pino.Logger

export const logLevels = ['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent'] as const
export type LogLevel = (typeof logLevels)[number]

/**
 * The one logger of a process: one JSON object per line on stdout (`level`, `time`, `service`, `msg`),
 * or coloured lines for a person when `pretty`, one line per entry. Errors go under `err` with their stack.
 */
export function createLogger(service: string, { level, pretty: forPerson }: { level: LogLevel; pretty: boolean }): Logger {
  const options: pino.LoggerOptions = {
    level,
    base: { service },
    timestamp: pino.stdTimeFunctions.isoTime,
    formatters: { level: (label) => ({ level: label }) },
  }
  // Loaded only for a person's terminal: pino-pretty and what it pulls in cost a service 4 MB resident.
  if (forPerson) return pino(options, (require('pino-pretty') as typeof pinoPretty)({ colorize: true, ignore: 'service', singleLine: true, sync: true }))
  // Lines are written 4 KB at a time, and what is buffered every 250 ms and at exit: a write per line,
  // at thousands of requests a second, cost hooks about a tenth of its throughput (docs/performance.md).
  // Synchronous writes: buffered asynchronous ones to a pipe sometimes stopped for good under Bun.
  const destination = pino.destination({ sync: true, minLength: 4096, periodicFlush: 250 })
  // pino flushes only asynchronous destinations at exit.
  process.on('exit', () => {
    try {
      destination.flushSync()
    } catch {
      // stdout is gone: nothing can be written anyway
    }
  })
  return pino(options, destination)
}

/** Pretty lines when a person watches the terminal, JSON for everything else (files, pipes, collectors). */
export const wantsPrettyLogs = () => process.stdout.isTTY === true
