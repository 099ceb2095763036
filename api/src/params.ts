import * as v from 'valibot'

export const uuid = v.pipe(v.string(), v.uuid('Expected an id such as 0193c5e2-7d1a-7c3e-9f00-2b6f1e0a4c11'))

export const idParams = v.object({ id: uuid })

/** A whole number in a query string; the document shows it as the integer it is. */
export const queryInteger = ({ min, max, fallback }: { min: number; max: number; fallback: number }) =>
  v.pipe(
    v.string(),
    v.check((text) => /^\d+$/.test(text), `Expected a whole number from ${min} to ${max}`),
    v.toNumber(),
    v.minValue(min, `Expected a whole number from ${min} to ${max}`),
    v.maxValue(max, `Expected a whole number from ${min} to ${max}`),
    v.metadata({ type: 'integer', minimum: min, maximum: max, default: fallback }),
  )
