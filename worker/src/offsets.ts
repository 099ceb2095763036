import type { Logger } from '@zap/lib/log'

/** How long an advance waits for others to share its commit: each commit is a write to Kafka's offsets log. */
const commitEveryMs = 50

export type OffsetCommit = { partition: number; offset: string }
export type OffsetTracker = { take: (offset: string) => () => void }

/**
 * Which offset of each partition may be committed while messages finish out of order: the offset
 * after the longest run of finished messages from the start, as Kafka counts a committed offset as
 * "everything before it is done". Commits go out `commitEveryMs` after a partition advances, one at
 * a time; an advance during a commit is sent right after it. A failed commit (a rebalance, Kafka away) is
 * retried with the next advance; what stays uncommitted is only redelivered.
 */
export function createOffsetTracker(commit: (commits: OffsetCommit[]) => Promise<void>, log: Logger) {
  const partitions = new Map<number, PartitionOffsets>()
  const committed = new Map<number, bigint>()
  let committing: Promise<void> | null = null
  let again = false
  let timer: Timer | null = null

  function committable(): OffsetCommit[] {
    const commits: OffsetCommit[] = []
    for (const [partition, offsets] of partitions) {
      const next = offsets.committable()
      if (next !== null && next !== committed.get(partition)) commits.push({ partition, offset: String(next) })
    }
    return commits
  }

  function send(): Promise<void> {
    if (committing) {
      again = true
      return committing
    }
    const commits = committable()
    if (commits.length === 0) return Promise.resolve()
    committing = commit(commits)
      .then(() => {
        for (const { partition, offset } of commits) committed.set(partition, BigInt(offset))
      })
      .catch((error) => log.debug({ err: error }, 'could not commit offsets; retrying with the next ones'))
      .finally(() => {
        committing = null
        if (again) {
          again = false
          void send()
        }
      })
    return committing
  }

  return {
    /**
     * The tracker of a partition's messages, starting at `firstOffset`. A fetch that starts at or
     * before an offset already taken means kafkajs went back (a rebalance restarts at the committed
     * offset): the old messages still running no longer count towards commits.
     */
    partition(partition: number, firstOffset: string): OffsetTracker {
      const known = partitions.get(partition)
      const tracked = known?.continuesWith(BigInt(firstOffset)) ? known : new PartitionOffsets()
      partitions.set(partition, tracked)
      return {
        take(offset) {
          const finish = tracked.take(BigInt(offset))
          return () => {
            if (finish() && partitions.get(partition) === tracked) timer ??= setTimeout(() => {
              timer = null
              void send()
            }, commitEveryMs)
          }
        },
      }
    },
    /** Forgets the partitions this member no longer holds. */
    retain(assigned: number[]) {
      for (const partition of partitions.keys()) {
        if (!assigned.includes(partition)) {
          partitions.delete(partition)
          committed.delete(partition)
        }
      }
    },
    /** Commits what can be committed now, after any commit under way. */
    async flush() {
      if (timer) clearTimeout(timer)
      timer = null
      await committing
      await send()
    },
  }
}

/** A partition's taken offsets in order, and which of them are finished. */
class PartitionOffsets {
  private queue: { offset: bigint; finished: boolean }[] = []
  private head = 0
  private last: bigint | null = null
  private next: bigint | null = null

  continuesWith(offset: bigint) {
    return this.last === null || offset > this.last
  }

  /** Takes an offset; the returned function marks it finished and says whether the committable offset moved. */
  take(offset: bigint) {
    const entry = { offset, finished: false }
    this.queue.push(entry)
    this.last = offset
    return () => {
      entry.finished = true
      if (this.queue[this.head] !== entry) return false
      while (this.head < this.queue.length && this.queue[this.head]!.finished) this.head++
      this.next = this.queue[this.head - 1]!.offset + 1n
      if (this.head >= 1024) {
        this.queue = this.queue.slice(this.head)
        this.head = 0
      }
      return true
    }
  }

  committable() {
    return this.next
  }
}
