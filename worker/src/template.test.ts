import { describe, expect, test } from 'bun:test'
import { render, RenderedTooLargeError, TemplateError } from './template.ts'

const context = {
  trigger: { body: { customer: { email: 'ada@example.com', age: 36, tags: ['a', 'b'] } }, headers: { 'x-source': 'shop' }, query: { id: '7' } },
  steps: [{ output: { body: { id: 99 } } }],
}

describe('templates', () => {
  test('references inside text are replaced', () => {
    expect(render('Hello {{trigger.body.customer.email}} from {{ trigger.headers.x-source }}', context)).toEqual({
      value: 'Hello ada@example.com from shop',
      missing: [],
    })
  })

  test('a value that is one whole reference keeps its JSON type', () => {
    expect(render({ age: '{{trigger.body.customer.age}}', tags: '{{trigger.body.customer.tags}}', id: '{{steps.0.output.body.id}}' }, context).value).toEqual({
      age: 36,
      tags: ['a', 'b'],
      id: 99,
    })
  })

  test('objects and numbers inside text become JSON', () => {
    expect(render('n={{steps.0.output.body.id}} tags={{trigger.body.customer.tags}}', context).value).toBe('n=99 tags=["a","b"]')
  })

  test('a missing field renders empty and is listed', () => {
    expect(render({ a: 'x{{trigger.body.nope}}y', b: '{{trigger.query.missing}}' }, context)).toEqual({
      value: { a: 'xy', b: '' },
      missing: ['trigger.body.nope', 'trigger.query.missing'],
    })
  })

  test('inherited properties are not reachable', () => {
    expect(render('{{trigger.body.constructor}}', context).missing).toEqual(['trigger.body.constructor'])
  })

  test('an unclosed reference throws a template error', () => {
    expect(() => render('{{trigger.body.', context)).toThrow(TemplateError)
    expect(() => render('a {{trigger.body.x}} b {{', context)).toThrow('Unclosed')
  })

  test('a malformed reference throws', () => {
    expect(() => render('{{trigger..body}}', context)).toThrow(TemplateError)
    expect(() => render('{{}}', context)).toThrow(TemplateError)
  })

  test('pathological input is rendered in linear time, never hanging', () => {
    const many = '{{'.repeat(200_000)
    expect(() => render(many, context)).toThrow(TemplateError)
    const references = 'x{{trigger.query.id}}'.repeat(50_000)
    expect((render(references, context).value as string).length).toBe(100_000)
  })

  test('rendering stops as soon as the output passes its budget, before building the rest', () => {
    let reads = 0
    const big = 'x'.repeat(1_000_000)
    const body = Object.defineProperty({}, 'big', { enumerable: true, get: () => (reads++, big) })
    const fanOut = { output: Object.fromEntries(Array.from({ length: 300 }, (_, n) => [`f${n}`, '{{trigger.body.big}}'])) }
    let thrown: unknown
    try {
      render(fanOut, { trigger: { body } }, 1024 * 1024)
    } catch (error) {
      thrown = error
    }
    expect(thrown).toBeInstanceOf(RenderedTooLargeError)
    expect(reads).toBe(2)
    expect(Object.keys((thrown as RenderedTooLargeError).partial as object)).toEqual(['f0'])
  })

  test('text with many references to a large field stops at the budget too', () => {
    const context = { trigger: { body: { big: 'y'.repeat(100_000) } } }
    expect(() => render({ message: '{{trigger.body.big}} '.repeat(100) }, context, 1024 * 1024)).toThrow(RenderedTooLargeError)
    expect((render({ message: '{{trigger.body.big}} '.repeat(10) }, context, 1024 * 1024).value as { message: string }).message).toHaveLength(1_000_010)
  })

  test('the budget counts UTF-8 bytes of keys, literal text and non-string values', () => {
    expect(() => render({ ['é'.repeat(60)]: 1 }, context, 100)).toThrow(RenderedTooLargeError)
    expect(() => render({ a: '{{trigger.body.customer}}' }, context, 40)).toThrow(RenderedTooLargeError)
    expect(render({ a: '{{trigger.body.customer}}' }, context, 200).value).toEqual({ a: context.trigger.body.customer })
  })

  test('missing references are listed once each, at most 100', () => {
    const template = Array.from({ length: 500 }, (_, n) => `{{trigger.body.m${n % 200}}}`)
    const { missing } = render(template, context)
    expect(missing).toHaveLength(100)
    expect(new Set(missing).size).toBe(100)
  })
})
