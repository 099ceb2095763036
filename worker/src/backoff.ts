/** Exponential backoff with full jitter: a random delay up to base * 2^(attempt-1), capped. */
export function nextRetryDelay(attempt: number, baseMs: number, maxMs: number, random = Math.random) {
  return Math.round(random() * Math.min(maxMs, baseMs * 2 ** (attempt - 1)))
}
