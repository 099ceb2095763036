import { describe, expect, test } from 'bun:test'
import { parseField } from './config-fields.ts'

describe('answers to config prompts are checked against the field schema', () => {
  test('an empty answer is required or left out', () => {
    expect(parseField({ type: 'string' }, ' ', true)).toEqual({ problem: 'Required' })
    expect(parseField({ type: 'string' }, '', false)).toEqual({ value: undefined })
  })

  test('numbers respect type and bounds', () => {
    expect(parseField({ type: 'integer', minimum: 100 }, '5', true)).toEqual({ problem: 'At least 100' })
    expect(parseField({ type: 'integer' }, '1.5', true)).toEqual({ problem: 'Enter a whole number' })
    expect(parseField({ type: 'number' }, 'abc', true)).toEqual({ problem: 'Enter a number' })
    expect(parseField({ type: 'integer', maximum: 20000 }, ' 5000 ', true)).toEqual({ value: 5000 })
  })

  test('strings respect length and pattern', () => {
    expect(parseField({ type: 'string', minLength: 1, maxLength: 3 }, 'abcd', true)).toEqual({ problem: 'At most 3 characters' })
    expect(parseField({ type: 'string', pattern: '\\{\\{' }, 'plain', true)).toEqual({ problem: 'Must match \\{\\{' })
  })

  test('objects and lists take JSON of that shape', () => {
    expect(parseField({ type: 'object' }, '[1]', true)).toEqual({ problem: 'Enter a JSON object: {...}' })
    expect(parseField({ type: 'array', minItems: 1 }, '[]', true)).toEqual({ problem: 'At least 1 item(s)' })
    expect(parseField({ type: 'array' }, '[{"left":1,"op":"exists"}]', true)).toEqual({ value: [{ left: 1, op: 'exists' }] })
    expect(parseField({ type: 'object' }, '{x', true)).toEqual({ problem: 'Enter JSON (object)' })
  })

  test('an untyped field takes JSON, or else the text as a template', () => {
    expect(parseField({}, '{"a":1}', false)).toEqual({ value: { a: 1 } })
    expect(parseField({}, 'hello {{trigger.body.name}}', false)).toEqual({ value: 'hello {{trigger.body.name}}' })
  })

  test('a field with alternatives takes the first that fits', () => {
    const seconds = { anyOf: [{ type: 'number', minimum: 0 }, { type: 'string', pattern: '\\{\\{' }] }
    expect(parseField(seconds, '30', true)).toEqual({ value: 30 })
    expect(parseField(seconds, '{{trigger.body.wait}}', true)).toEqual({ value: '{{trigger.body.wait}}' })
    expect(parseField(seconds, 'soon', true)).toEqual({ problem: 'Enter a number' })
  })
})
