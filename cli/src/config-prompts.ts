import { confirm, select, text } from '@clack/prompts'
import { answer } from './prompts.ts'
import type { JsonSchema } from './types.ts'

type Parsed = { value: unknown } | { problem: string }

const skip = Symbol('skip')

/** Asks for each field of a step's config schema, checking answers against the schema as they are typed. */
export async function askConfig(schema: JsonSchema) {
  const config: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const value = await askField(key, field, schema.required?.includes(key) ?? false)
    if (value !== undefined) config[key] = value
  }
  return config
}

async function askField(key: string, field: JsonSchema, required: boolean) {
  const message = required ? key : `${key} (optional)`
  if (field.enum) {
    const options = field.enum.map((value) => ({ value, label: String(value) }))
    const choices = required || field.default !== undefined ? options : [{ value: skip, label: '(none)' }, ...options]
    const value = await answer(select<unknown>({ message, options: choices, initialValue: field.default }))
    return value === skip ? undefined : value
  }
  if (field.type === 'boolean') return answer(confirm({ message, initialValue: field.default === true }))
  const raw = await answer(
    text({
      message,
      placeholder: placeholderFor(field),
      validate: (input) => {
        const parsed = parseField(field, input ?? '', required)
        return 'problem' in parsed ? parsed.problem : undefined
      },
    }),
  )
  return (parseField(field, raw ?? '', required) as { value: unknown }).value
}

export function parseField(field: JsonSchema, raw: string, required: boolean): Parsed {
  if (raw.trim() === '') return required ? { problem: 'Required' } : { value: undefined }
  if (field.type === 'string') return checkString(field, raw)
  if (field.type === 'integer' || field.type === 'number') return checkNumber(field, Number(raw.trim()))
  return parseJson(field, raw)
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
    return field.type ? { problem: `Enter JSON, e.g. ${exampleFor(field)}` } : { value: raw }
  }
  if (field.type === 'object' && (typeof value !== 'object' || value === null || Array.isArray(value))) return { problem: `Enter a JSON object, e.g. ${exampleFor(field)}` }
  if (field.type === 'array' && !Array.isArray(value)) return { problem: `Enter a JSON array, e.g. ${exampleFor(field)}` }
  if (field.type === 'boolean' && typeof value !== 'boolean') return { problem: 'Enter true or false' }
  return { value }
}

const exampleFor = (field: JsonSchema) => (field.type === 'array' ? '["a", "b"]' : '{"key": "value"}')

function placeholderFor(field: JsonSchema) {
  if (field.description) return field.description
  if (field.type === 'string' || field.type === 'integer' || field.type === 'number') return field.default === undefined ? undefined : String(field.default)
  return field.type ? `JSON, e.g. ${exampleFor(field)}` : 'JSON or text'
}
