export type BatcherOptions<I, O> = {
  /** Does the work of several calls at once, answering them in order. */
  many: (items: I[]) => Promise<O[]>
  /** Does the work of one call: for a batch of one, and for each call of a batch `many` failed with an error `splitOn` accepts. */
  one: (item: I) => Promise<O>
  /** Whether a failed batch may hold calls that would succeed alone (a bad row, not an outage). */
  splitOn: (error: unknown) => boolean
  waitMs: number
  maxItems: number
}

/**
 * Gathers the calls made within `waitMs` of the first (at most `maxItems`) and does their work in one
 * go; each call still gets its own answer, and a batch that failed for one item's sake is retried item
 * by item, so one bad item never fails the others.
 */
export function createBatcher<I, O>({ many, one, splitOn, waitMs, maxItems }: BatcherOptions<I, O>) {
  let gathering: Call<I, O>[] = []
  let timer: ReturnType<typeof setTimeout> | undefined

  function send() {
    clearTimeout(timer)
    timer = undefined
    const batch = gathering
    gathering = []
    if (batch.length === 1) return settle(batch[0]!, one(batch[0]!.item))
    many(batch.map((call) => call.item)).then(
      (results) => batch.forEach((call, index) => call.resolve(results[index]!)),
      (error) => {
        if (splitOn(error)) for (const call of batch) settle(call, one(call.item))
        else for (const call of batch) call.reject(error)
      },
    )
  }

  return function call(item: I): Promise<O> {
    return new Promise<O>((resolve, reject) => {
      gathering.push({ item, resolve, reject })
      if (gathering.length >= maxItems) send()
      else timer ??= setTimeout(send, waitMs)
    })
  }
}

type Call<I, O> = { item: I; resolve: (result: O) => void; reject: (error: unknown) => void }

const settle = <I, O>(call: Call<I, O>, work: Promise<O>) => void work.then(call.resolve, call.reject)
