export type StepOutcome =
  | { kind: 'succeeded'; output: unknown; stopReason?: string }
  | { kind: 'waiting'; output: unknown; until: Date }
  | { kind: 'failed'; error: string; retryable: boolean; retryAfterMs?: number; output?: unknown; stopReason?: string }

export const succeeded = (output: unknown): StepOutcome => ({ kind: 'succeeded', output })

/** Succeeded, and the run ends here: the remaining steps are skipped for `reason`. */
export const stopRun = (output: unknown, reason: string): StepOutcome => ({ kind: 'succeeded', output, stopReason: reason })

/** Failed on purpose, and the run ends here: the remaining steps are skipped, and it is not replayed automatically. */
export const failRun = (output: unknown, reason: string): StepOutcome => ({ kind: 'failed', error: reason, retryable: false, output, stopReason: reason })

export const waitUntil = (until: Date): StepOutcome => ({ kind: 'waiting', output: { until: until.toISOString() }, until })

export const permanentFailure = (error: string, output?: unknown): StepOutcome => ({ kind: 'failed', error, retryable: false, output })

export const retryableFailure = (error: string, details: { output?: unknown; retryAfterMs?: number } = {}): StepOutcome => ({
  kind: 'failed',
  error,
  retryable: true,
  ...details,
})
