/** Taking a slot: admitted with its release; over the caller's share (park until woken); or the worker stayed full. */
export type Admission = { kind: 'admitted'; release: () => void } | { kind: 'over_share'; userShare: number; zapShare: number } | { kind: 'full' }

/**
 * A worker's step slots, shared among the users whose steps it runs: three quarters of the slots are
 * split evenly between the users holding or waiting for one (a share that shrinks as accounts join),
 * and a zap gets two thirds of its owner's share. The last quarter only ever goes to a user's first
 * slot, so a user who is not yet running anything here starts at once however many accounts keep the
 * worker busy. A caller over its share is told so at once (it should wait where waiting costs no slot);
 * a caller within it waits up to `maxWaitMs` for a slot to free.
 */
export function createFairShare(capacity: number, maxWaitMs: number) {
  const sharedSlots = Math.max(1, Math.floor((capacity * 3) / 4))
  const byZap = new Map<string, number>()
  const byUser = new Map<string, number>()
  const waiting: { zapId: string; userId: string; admit: (release: () => void) => void }[] = []
  // Steps of each user this worker sent to wait in the outbox, which its released slots wake.
  const parked = new Map<string, number>()
  let inUse = 0

  function activeUsers(userId: string) {
    const users = new Set(byUser.keys()).add(userId)
    for (const entry of waiting) users.add(entry.userId)
    return users.size
  }

  function sharesOf(userId: string) {
    const userShare = Math.max(1, Math.floor(sharedSlots / activeUsers(userId)))
    return { userShare, zapShare: Math.max(1, Math.floor((userShare * 2) / 3)) }
  }

  function withinShare(zapId: string, userId: string) {
    const { userShare, zapShare } = sharesOf(userId)
    return (byUser.get(userId) ?? 0) < userShare && (byZap.get(zapId) ?? 0) < zapShare
  }

  const hasRoom = (userId: string) => inUse < (byUser.has(userId) ? sharedSlots : capacity)

  function take(zapId: string, userId: string) {
    inUse++
    byZap.set(zapId, (byZap.get(zapId) ?? 0) + 1)
    byUser.set(userId, (byUser.get(userId) ?? 0) + 1)
    let released = false
    return () => {
      if (released) return
      released = true
      inUse--
      decrement(byZap, zapId)
      decrement(byUser, userId)
      admitWaiting()
    }
  }

  // The waiting user holding the fewest slots goes first.
  function admitWaiting() {
    const order = waiting.map((entry, index) => ({ entry, index, held: byUser.get(entry.userId) ?? 0 })).sort((a, b) => a.held - b.held || a.index - b.index)
    for (const { entry } of order) {
      if (!hasRoom(entry.userId) || !withinShare(entry.zapId, entry.userId)) continue
      waiting.splice(waiting.indexOf(entry), 1)
      entry.admit(take(entry.zapId, entry.userId))
    }
  }

  return {
    noteParked(userId: string) {
      parked.set(userId, (parked.get(userId) ?? 0) + 1)
    },
    /** How many of `userId`'s parked steps to wake now: as many as its share has room for, at least one, at most `maxWake`. */
    toWake(userId: string) {
      const count = parked.get(userId) ?? 0
      if (count === 0) return 0
      const room = sharesOf(userId).userShare - (byUser.get(userId) ?? 0)
      const wake = Math.min(count, maxWake, Math.max(1, room))
      if (wake === count) parked.delete(userId)
      else parked.set(userId, count - wake)
      return wake
    },
    /** Fewer steps than asked were woken: the rest were woken elsewhere or came back by themselves. */
    forgetParked: (userId: string) => parked.delete(userId),
    async enter(zapId: string, userId: string): Promise<Admission> {
      if (!withinShare(zapId, userId)) return { kind: 'over_share', ...sharesOf(userId) }
      if (hasRoom(userId) && waiting.length === 0) return { kind: 'admitted', release: take(zapId, userId) }
      return new Promise((resolve) => {
        const entry = { zapId, userId, admit: (release: () => void) => (clearTimeout(timer), resolve({ kind: 'admitted', release })) }
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1)
          resolve({ kind: 'full' })
        }, maxWaitMs)
        waiting.push(entry)
        admitWaiting()
      })
    },
  }
}

// A release wakes at most this many parked steps, so wake-ups stay proportionate to the slots freed.
const maxWake = 4

export type FairShare = ReturnType<typeof createFairShare>

function decrement(counts: Map<string, number>, key: string) {
  const count = (counts.get(key) ?? 1) - 1
  if (count === 0) counts.delete(key)
  else counts.set(key, count)
}
