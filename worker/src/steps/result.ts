export type StepOutcome =
  | { ok: true; output: unknown }
  | { ok: false; error: string; retryable: boolean; retryAfterMs?: number; output?: unknown }

export const succeeded = (output: unknown): StepOutcome => ({ ok: true, output })

export const permanentFailure = (error: string, output?: unknown): StepOutcome => ({ ok: false, error, retryable: false, output })

export const retryableFailure = (error: string, details: { output?: unknown; retryAfterMs?: number } = {}): StepOutcome => ({
  ok: false,
  error,
  retryable: true,
  ...details,
})
