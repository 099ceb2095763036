import { confirm, select, text } from '@clack/prompts'
import { parseField } from './config-fields.ts'
import { answer } from './prompts.ts'
import type { JsonSchema } from './types.ts'

const skip = Symbol('skip')

/** Asks for each field of a step's config schema, checking answers against the schema as they are typed. */
export async function askConfig(schema: JsonSchema): Promise<Record<string, unknown>> {
  if (schema.anyOf) return askConfig(await askVariant(schema.anyOf))
  const config: Record<string, unknown> = {}
  for (const [key, field] of Object.entries(schema.properties ?? {})) {
    const value = await askField(key, field, schema.required?.includes(key) ?? false)
    if (value !== undefined) config[key] = value
  }
  return config
}

async function askVariant(variants: JsonSchema[]) {
  const options = variants.map((variant, index) => ({ value: index, label: Object.keys(variant.properties ?? {}).join(' + ') || `form ${index + 1}` }))
  return variants[await answer(select({ message: 'Which form?', options }))]!
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
  const problemWith = (input: string) => {
    const parsed = parseField(field, input, required)
    return 'problem' in parsed ? parsed.problem : undefined
  }
  const raw = await answer(text({ message, placeholder: placeholderFor(field), validate: (input) => problemWith(input ?? '') }))
  return (parseField(field, raw ?? '', required) as { value: unknown }).value
}

function placeholderFor(field: JsonSchema) {
  if (field.type === 'string') return undefined
  if (field.type === 'integer' || field.type === 'number') return field.default === undefined ? 'a number' : String(field.default)
  return `${field.type ? 'JSON' : 'JSON or text'}, e.g. ${JSON.stringify(exampleOf(field))}`
}

function exampleOf(field: JsonSchema): unknown {
  if (field.enum) return field.enum[0]
  if (field.anyOf) return exampleOf(field.anyOf[0]!)
  if (field.type === 'number' || field.type === 'integer') return field.minimum ?? 1
  if (field.type === 'boolean') return true
  if (field.type === 'array') return [exampleOf(field.items ?? {})]
  if (field.type === 'object') return Object.fromEntries(Object.entries(field.properties ?? { key: {} }).map(([key, value]) => [key, exampleOf(value)]))
  return field.type === 'string' ? 'text' : '{{trigger.body.name}}'
}
