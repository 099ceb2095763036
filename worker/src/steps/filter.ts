import * as v from 'valibot'
import { compilePattern, type filterConfig, type Operator } from '@zap/lib/steps'
import { jsonPreview } from '../size.ts'
import { stopRun, succeeded, type StepOutcome } from './result.ts'

type FilterConfig = v.InferOutput<typeof filterConfig>

// With RE2 a match costs at most (program size x input length); both are capped.
export const maxMatchedLength = 1_000

/** Passes when all (or any) conditions hold; otherwise the run stops here, succeeded. */
export function runFilterStep(config: FilterConfig): StepOutcome {
  // The compared values are in the step's recorded input already; the output only says what held.
  const results = config.conditions.map((condition) => ({ op: condition.op, holds: holds(condition.op, condition.left, condition.right) }))
  const passed = config.match === 'any' ? results.some((result) => result.holds) : results.every((result) => result.holds)
  if (passed) return succeeded({ passed, results })
  const failing = config.conditions.filter((_, index) => !results[index]!.holds).map((condition) => `${jsonPreview(condition.left, 100)} ${condition.op} ${jsonPreview(condition.right ?? null, 100)}`)
  return stopRun({ passed, results }, `Filter did not pass (${config.match}): ${failing.join('; ')}`)
}

function holds(op: Operator, left: unknown, right: unknown): boolean {
  switch (op) {
    case 'equals':
      return same(left, right)
    case 'not_equals':
      return !same(left, right)
    case 'contains':
      return Array.isArray(left) ? left.some((item) => same(item, right)) : text(left).includes(text(right))
    case 'starts_with':
      return text(left).startsWith(text(right))
    case 'greater_than':
      return compare(left, right) > 0
    case 'less_than':
      return compare(left, right) < 0
    case 'exists':
      return present(left)
    case 'not_exists':
      return !present(left)
    case 'matches': {
      const compiled = compilePattern(text(right))
      return 'regex' in compiled && compiled.regex.test(text(left).slice(0, maxMatchedLength))
    }
  }
}

const present = (value: unknown) => value !== undefined && value !== null && value !== ''

const text = (value: unknown) => (typeof value === 'string' ? value : value === undefined || value === null ? '' : JSON.stringify(value))

// Webhook data mixes "5" and 5; values compare by their text, objects by their JSON.
const same = (left: unknown, right: unknown) => text(left) === text(right)

function compare(left: unknown, right: unknown) {
  const [a, b] = [Number(left), Number(right)]
  if (text(left) !== '' && text(right) !== '' && Number.isFinite(a) && Number.isFinite(b)) return a - b
  const [t1, t2] = [Date.parse(text(left)), Date.parse(text(right))]
  if (Number.isFinite(t1) && Number.isFinite(t2)) return t1 - t2
  return text(left).localeCompare(text(right))
}
