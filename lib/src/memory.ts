import * as v from 'valibot'
import type { Logger } from './log.ts'

/** MEMORY_TARGET_MB of every service: the resident memory past which it collects garbage at once (0: never). */
export const memoryEntries = {
  MEMORY_TARGET_MB: v.optional(v.pipe(v.string(), v.toNumber(), v.integer(), v.minValue(0)), '85'),
}

const checkEveryMs = 100
const collectAtMostEveryMs = 1_000

/**
 * Keeps a service's resident memory near `targetMb`. Between its own collections JavaScriptCore lets
 * the heap grow to two or three times what is live, and Bun's allocator keeps the pages it freed; a
 * full collection, run here once resident memory passes the target (at most once a second), also
 * hands those pages back. Below the target this costs a look at the resident size four times a second.
 */
export function boundMemory(targetMb: number, log: Logger) {
  if (targetMb === 0) return () => {}
  const targetBytes = targetMb * 1024 * 1024
  let lastCollection = -Infinity
  const timer = setInterval(() => {
    const now = performance.now()
    const rss = process.memoryUsage.rss()
    if (rss < targetBytes || now - lastCollection < collectAtMostEveryMs) return
    lastCollection = now
    Bun.gc(true)
    log.debug({ targetMb, rssMb: megabytes(rss), afterMb: megabytes(process.memoryUsage.rss()), ms: Math.round(performance.now() - now) }, 'collected garbage past the memory target')
  }, checkEveryMs)
  timer.unref()
  return () => clearInterval(timer)
}

const megabytes = (bytes: number) => Math.round(bytes / 1024 / 1024)
