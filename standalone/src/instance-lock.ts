import { dlopen, FFIType } from 'bun:ffi'
import { closeSync, constants, ftruncateSync, mkdirSync, openSync, readFileSync, writeSync } from 'node:fs'
import { join } from 'node:path'

export type InstanceLock = { release: () => void }

/**
 * Claims `dataDir` for this process until it exits: a second zap on the same data refuses at once
 * instead of taking the first one's PostgreSQL for a leftover. The kernel drops the lock when the
 * process dies however it dies, so a killed instance never blocks the next start.
 */
export function lockDataDir(dataDir: string, apiPort: number): InstanceLock {
  mkdirSync(dataDir, { recursive: true })
  const path = join(dataDir, 'zap.lock')
  const fd = openSync(path, constants.O_RDWR | constants.O_CREAT, 0o644)
  if (flock(fd, lockExclusive | lockNonBlocking) !== 0) {
    closeSync(fd)
    throw new Error(`zap is already running here (${holderOf(path)}); stop it first, or set ZAP_DATA_DIR to another folder to run a second one`)
  }
  ftruncateSync(fd, 0)
  writeSync(fd, JSON.stringify({ pid: process.pid, apiPort }), 0)
  return {
    release: () => {
      ftruncateSync(fd, 0)
      closeSync(fd)
    },
  }
}

const lockExclusive = 2
const lockNonBlocking = 4

function holderOf(path: string) {
  try {
    const { pid, apiPort } = JSON.parse(readFileSync(path, 'utf8')) as { pid: number; apiPort: number }
    return `pid ${pid}, API on :${apiPort}`
  } catch {
    return `${path} is locked`
  }
}

let libcFlock: ((fd: number, operation: number) => number) | undefined

// flock(2) from the C library: Node and Bun have no file locks of their own.
function flock(fd: number, operation: number) {
  libcFlock ??= loadFlock()
  return libcFlock(fd, operation)
}

function loadFlock() {
  const names = process.platform === 'darwin' ? ['libc.dylib'] : ['libc.so.6', `libc.musl-${process.arch === 'arm64' ? 'aarch64' : 'x86_64'}.so.1`]
  for (const name of names) {
    try {
      const { symbols } = dlopen(name, { flock: { args: [FFIType.i32, FFIType.i32], returns: FFIType.i32 } })
      return (fd: number, operation: number) => symbols.flock(fd, operation)
    } catch {}
  }
  throw new Error(`Cannot load flock from the C library (tried ${names.join(', ')})`)
}
