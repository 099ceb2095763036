export class TemplateError extends Error {
  readonly code = 'invalid_template'
}

export type Rendered = { value: unknown; missing: string[] }

const open = '{{'
const close = '}}'
const maxExpression = 256

/**
 * Renders `{{path.to.value}}` references in every string of a JSON value, scanning each string once.
 * A string that is exactly one reference keeps the referenced JSON type; a missing field renders
 * as an empty string and is listed in `missing`. An unclosed or malformed reference throws.
 */
export function render(template: unknown, context: unknown): Rendered {
  const missing: string[] = []
  const value = renderValue(template, context, missing)
  return { value, missing }
}

function renderValue(value: unknown, context: unknown, missing: string[]): unknown {
  if (typeof value === 'string') return renderString(value, context, missing)
  if (Array.isArray(value)) return value.map((item) => renderValue(item, context, missing))
  if (value !== null && typeof value === 'object') {
    return Object.fromEntries(Object.entries(value).map(([key, item]) => [key, renderValue(item, context, missing)]))
  }
  return value
}

function renderString(text: string, context: unknown, missing: string[]): unknown {
  let start = text.indexOf(open)
  if (start === -1) return text
  const whole = start === 0 && text.indexOf(close) === text.length - close.length && text.indexOf(open, 2) === -1
  if (whole) return lookup(parsePath(text.slice(open.length, -close.length)), context, missing) ?? ''
  let output = ''
  let from = 0
  while (start !== -1) {
    const end = text.indexOf(close, start + open.length)
    if (end === -1) throw new TemplateError(`Unclosed "{{" at position ${start} in "${preview(text)}"`)
    const found = lookup(parsePath(text.slice(start + open.length, end)), context, missing)
    output += text.slice(from, start) + stringify(found)
    from = end + close.length
    start = text.indexOf(open, from)
  }
  return output + text.slice(from)
}

function parsePath(expression: string) {
  const path = expression.trim()
  if (path.length === 0 || path.length > maxExpression || !/^[\w$-]+(\.[\w$-]+)*$/.test(path)) {
    throw new TemplateError(`Invalid reference "{{${preview(expression)}}}": expected a path such as trigger.body.email`)
  }
  return path
}

function lookup(path: string, context: unknown, missing: string[]) {
  let current = context
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      missing.push(path)
      return undefined
    }
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

const stringify = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value))

const preview = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text)
