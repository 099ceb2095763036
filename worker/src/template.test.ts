import { describe, expect, test } from 'bun:test'
import { render, TemplateError } from './template.ts'

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
})
