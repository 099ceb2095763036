import type { JsonSchema } from './types.ts'

export type Parsed = { value: unknown } | { problem: string }

/** Turns a typed answer into a config value that fits the field's JSON schema, or says what is wrong. */
export function parseField(field: JsonSchema, raw: string, required: boolean): Parsed {
  if (raw.trim() === '') return required ? { problem: 'Required' } : { value: undefined }
  return parseValue(field, raw)
}

function parseValue(field: JsonSchema, raw: string): Parsed {
  if (field.anyOf) return firstFit(field.anyOf, raw)
  if (field.type === 'string') return checkString(field, raw)
  if (field.type === 'integer' || field.type === 'number') return checkNumber(field, Number(raw.trim()))
  return parseJson(field, raw)
}

function firstFit(alternatives: JsonSchema[], raw: string): Parsed {
  const results = alternatives.map((alternative) => parseValue(alternative, raw))
  return results.find((result) => 'value' in result) ?? results[0]!
}

function checkString(field: JsonSchema, value: string): Parsed {
  if (field.minLength !== undefined && value.length < field.minLength) return { problem: `At least ${field.minLength} characters` }
  if (field.maxLength !== undefined && value.length > field.maxLength) return { problem: `At most ${field.maxLength} characters` }
  if (field.pattern && !new RegExp(field.pattern).test(value)) return { problem: `Must match ${field.pattern}` }
  return { value }
}

function checkNumber(field: JsonSchema, value: number): Parsed {
  if (!Number.isFinite(value)) return { problem: 'Enter a number' }
  if (field.type === 'integer' && !Number.isInteger(value)) return { problem: 'Enter a whole number' }
  if (field.minimum !== undefined && value < field.minimum) return { problem: `At least ${field.minimum}` }
  if (field.maximum !== undefined && value > field.maximum) return { problem: `At most ${field.maximum}` }
  return { value }
}

// A field without a type (such as an HTTP body) takes JSON, or else the text as a string template.
function parseJson(field: JsonSchema, raw: string): Parsed {
  let value: unknown
  try {
    value = JSON.parse(raw)
  } catch {
    return field.type ? { problem: `Enter JSON (${field.type})` } : { value: raw }
  }
  if (field.type === 'object' && (typeof value !== 'object' || value === null || Array.isArray(value))) return { problem: 'Enter a JSON object: {...}' }
  if (field.type === 'array') {
    if (!Array.isArray(value)) return { problem: 'Enter a JSON list: [...]' }
    if (field.minItems !== undefined && value.length < field.minItems) return { problem: `At least ${field.minItems} item(s)` }
    if (field.maxItems !== undefined && value.length > field.maxItems) return { problem: `At most ${field.maxItems} items` }
  }
  return { value }
}
