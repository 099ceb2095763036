import { jsonSize } from './size.ts'

export class TemplateError extends Error {
  readonly code = 'invalid_template'
}

/** Rendering passed its byte budget; `partial` is what was rendered by then, for a preview. */
export class RenderedTooLargeError extends Error {
  readonly code = 'rendered_too_large'
  partial: unknown

  constructor(readonly maxBytes: number) {
    super(`The rendered config is larger than ${maxBytes} bytes (STEP_MAX_RENDERED_BYTES); rendering stopped there`)
  }
}

export type Rendered = { value: unknown; missing: string[] }

const open = '{{'
const close = '}}'
const maxExpression = 256
const maxMissing = 100

type State = { context: unknown; missing: Set<string>; bytes: number; maxBytes: number }

/**
 * Renders `{{path.to.value}}` references in every string of a JSON value, scanning each string once.
 * A string that is exactly one reference keeps the referenced JSON type; a missing field renders
 * as an empty string and is listed in `missing`. An unclosed or malformed reference throws a
 * TemplateError; output past `maxBytes` (UTF-8, as stored) throws a RenderedTooLargeError as soon
 * as it is counted, before it is built.
 */
export function render(template: unknown, context: unknown, maxBytes = Number.POSITIVE_INFINITY): Rendered {
  const state: State = { context, missing: new Set(), bytes: 0, maxBytes }
  const value = renderValue(template, state)
  return { value, missing: [...state.missing] }
}

function renderValue(value: unknown, state: State): unknown {
  if (typeof value === 'string') return renderString(value, state)
  if (Array.isArray(value)) {
    const items: unknown[] = []
    keepPartial(() => items, () => {
      for (const item of value) items.push(renderValue(item, state))
    })
    return items
  }
  if (value !== null && typeof value === 'object') {
    const entries: [string, unknown][] = []
    keepPartial(() => Object.fromEntries(entries), () => {
      for (const [key, item] of Object.entries(value)) {
        count(state, Buffer.byteLength(key) + 4)
        entries.push([key, renderValue(item, state)])
      }
    })
    return Object.fromEntries(entries)
  }
  count(state, String(value).length)
  return value
}

function renderString(text: string, state: State): unknown {
  let start = text.indexOf(open)
  if (start === -1) {
    count(state, Buffer.byteLength(text) + 2)
    return text
  }
  const whole = start === 0 && text.indexOf(close) === text.length - close.length && text.indexOf(open, 2) === -1
  if (whole) {
    const found = lookup(parsePath(text.slice(open.length, -close.length)), state) ?? ''
    count(state, jsonSize(found, state.maxBytes - state.bytes))
    return found
  }
  let output = ''
  let from = 0
  count(state, 2)
  keepPartial(() => output, () => {
    while (start !== -1) {
      const end = text.indexOf(close, start + open.length)
      if (end === -1) throw new TemplateError(`Unclosed "{{" at position ${start} in "${preview(text)}"`)
      const found = lookup(parsePath(text.slice(start + open.length, end)), state)
      const before = text.slice(from, start)
      count(state, Buffer.byteLength(before) + (typeof found === 'string' ? Buffer.byteLength(found) : jsonSize(found ?? '', state.maxBytes - state.bytes)))
      output += before + stringify(found)
      from = end + close.length
      start = text.indexOf(open, from)
    }
    const rest = text.slice(from)
    count(state, Buffer.byteLength(rest))
    output += rest
  })
  return output
}

function count(state: State, bytes: number) {
  state.bytes += bytes
  if (state.bytes > state.maxBytes) throw new RenderedTooLargeError(state.maxBytes)
}

// The innermost value being built when the budget ran out becomes the preview.
function keepPartial(partial: () => unknown, build: () => void) {
  try {
    build()
  } catch (error) {
    if (error instanceof RenderedTooLargeError && error.partial === undefined) error.partial = partial()
    throw error
  }
}

function parsePath(expression: string) {
  const path = expression.trim()
  if (path.length === 0 || path.length > maxExpression || !/^[\w$-]+(\.[\w$-]+)*$/.test(path)) {
    throw new TemplateError(`Invalid reference "{{${preview(expression)}}}": expected a path such as trigger.body.email`)
  }
  return path
}

function lookup(path: string, state: State) {
  let current = state.context
  for (const key of path.split('.')) {
    if (current === null || typeof current !== 'object' || !Object.hasOwn(current, key)) {
      if (state.missing.size < maxMissing) state.missing.add(path)
      return undefined
    }
    current = (current as Record<string, unknown>)[key]
  }
  return current
}

const stringify = (value: unknown) => (value === undefined || value === null ? '' : typeof value === 'string' ? value : JSON.stringify(value))

const preview = (text: string) => (text.length > 60 ? `${text.slice(0, 57)}...` : text)
