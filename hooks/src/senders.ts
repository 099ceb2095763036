import { HttpError } from '@zap/lib/errors'

export const defaultMaxRequestsPerAddress = 256

/**
 * Counts each sender address's webhook requests in flight, from their headers to their answer. Past
 * `max`, a request is refused at once and its connection closed: one address trickling bodies cannot
 * hold the receiver's descriptors (a request is answered or cut within HOOKS_REQUEST_TIMEOUT_S anyway).
 */
export function senderSlots(max: number) {
  const inFlight = new Map<string, number>()

  return async function withSenderSlot<T>(address: string | null, work: () => Promise<T>): Promise<T> {
    // A unix socket or an in-process call has no address to count.
    if (address === null) return work()
    const count = inFlight.get(address) ?? 0
    if (count >= max) throw tooManyInFlight(max)
    inFlight.set(address, count + 1)
    try {
      return await work()
    } finally {
      const left = inFlight.get(address)! - 1
      if (left === 0) inFlight.delete(address)
      else inFlight.set(address, left)
    }
  }
}

const tooManyInFlight = (max: number) =>
  new HttpError(429, 'too_many_in_flight', `This address already has ${max} webhook requests in flight; send the rest after those are answered`, undefined, {
    'retry-after': '1',
    connection: 'close',
  })
