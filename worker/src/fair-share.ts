/**
 * A worker's step slots, shared so that no zap holds more than half of them and no user more than
 * three quarters: a slow or busy zap always leaves room for the user's other zaps and for other
 * users. A caller that finds no room waits up to `maxWaitMs` for one, and then gets null (it
 * should come back later).
 */
export function createFairShare(capacity: number, maxWaitMs: number) {
  const zapShare = Math.max(1, Math.floor(capacity / 2))
  const userShare = Math.max(1, Math.floor((capacity * 3) / 4))
  const byZap = new Map<string, number>()
  const byUser = new Map<string, number>()
  const waiting: { zapId: string; userId: string; admit: (release: () => void) => void }[] = []
  let inUse = 0

  const fits = (zapId: string, userId: string) => inUse < capacity && (byZap.get(zapId) ?? 0) < zapShare && (byUser.get(userId) ?? 0) < userShare

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

  function admitWaiting() {
    for (let index = 0; index < waiting.length; index++) {
      const next = waiting[index]!
      if (!fits(next.zapId, next.userId)) continue
      waiting.splice(index--, 1)
      next.admit(take(next.zapId, next.userId))
    }
  }

  return {
    zapShare,
    userShare,
    async enter(zapId: string, userId: string): Promise<(() => void) | null> {
      if (fits(zapId, userId) && waiting.length === 0) return take(zapId, userId)
      return new Promise((resolve) => {
        const entry = { zapId, userId, admit: (release: () => void) => (clearTimeout(timer), resolve(release)) }
        const timer = setTimeout(() => {
          waiting.splice(waiting.indexOf(entry), 1)
          resolve(null)
        }, maxWaitMs)
        waiting.push(entry)
        admitWaiting()
      })
    },
  }
}

export type FairShare = ReturnType<typeof createFairShare>

function decrement(counts: Map<string, number>, key: string) {
  const count = (counts.get(key) ?? 1) - 1
  if (count === 0) counts.delete(key)
  else counts.set(key, count)
}
