import pLimit from 'p-limit'
import type { StepMessage, Transport } from '@zap/lib/messages'
import type { StepHandler } from './handler.ts'

/**
 * Hands step messages straight to this process's step handler: the transport of the one-process
 * mode. `publish` resolves once the messages are queued, holding back while the queue is full.
 */
export function inProcessTransport(handler: StepHandler, concurrency: number): Transport & { stop: () => Promise<void> } {
  const limit = pLimit(concurrency)
  const maxQueued = concurrency * 16
  const inFlight = new Set<Promise<unknown>>()

  return {
    async publish(messages: StepMessage[]) {
      for (const message of messages) {
        while (limit.pendingCount >= maxQueued) await Promise.race(inFlight)
        const work = limit(() => handler.handle(message)).catch(() => {})
        inFlight.add(work)
        void work.finally(() => inFlight.delete(work))
      }
    },
    async stop() {
      handler.stop()
      limit.clearQueue()
      await Promise.all(inFlight)
    },
  }
}
