import { describe, expect, test } from 'bun:test'
import { call, createZap, hooks, signUp, sql } from '@zap/testkit/http'

async function storedKeys(runId: string) {
  const [run] = await sql<{ concurrency_key: string | null; debounce_key: string | null }[]>`
    select concurrency_key, debounce_key from runs where id = ${runId}`
  return run!
}

async function accept(zapId: string, body: unknown) {
  const response = await call(hooks, 'POST', `/hooks/${zapId}`, { body })
  expect(response.status).toBe(202)
  return storedKeys(response.body.runId)
}

const hashed = /^sha256:[0-9a-f]{64}$/

describe('concurrency and debounce keys', () => {
  test('a reference repeated in a key inserts its value as literal text: {{…}} inside the value is never expanded', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { concurrency: { limit: 1, key: '{{trigger.body.a}}|{{trigger.body.a}}|{{trigger.body.a}}' } })
    const body = { a: '{{trigger.body.a}}{{trigger.body.a}}' }
    expect((await accept(zap.id, body)).concurrency_key).toBe(Array(3).fill(body.a).join('|'))
  })

  test('a value that names another reference of the key is inserted as it is', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { concurrency: { limit: 1, key: '{{trigger.body.org}}:{{trigger.body.user}}' } })
    expect((await accept(zap.id, { org: '{{trigger.body.user}}', user: 'u{{trigger.body.org}}' })).concurrency_key).toBe(
      '{{trigger.body.user}}:u{{trigger.body.org}}',
    )
  })

  test('a debounce key renders once too', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { debounce: { waitSeconds: 60, key: '{{trigger.body.a}}-{{trigger.body.a}}' } })
    expect((await accept(zap.id, { a: '{{trigger.body.a}}!' })).debounce_key).toBe('{{trigger.body.a}}!-{{trigger.body.a}}!')
  })

  test('a key of up to 256 bytes is stored as rendered; a longer one is its sha256, equal for equal keys and apart for different ones', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { concurrency: { limit: 1, key: '{{trigger.body.org}}:{{trigger.body.user}}' } })
    const fits = { org: 'é'.repeat(100), user: 'x'.repeat(55) }
    expect((await accept(zap.id, fits)).concurrency_key).toBe(`${fits.org}:${fits.user}`)
    const over = { org: 'é'.repeat(100), user: 'x'.repeat(56) }
    expect((await accept(zap.id, over)).concurrency_key).toMatch(hashed)

    // What once expanded to gigabytes: each of many copies of one reference inside another value.
    const hostile = { org: '{{trigger.body.user}}'.repeat(1_000), user: 'y'.repeat(30_000) }
    const first = (await accept(zap.id, hostile)).concurrency_key
    expect(first).toMatch(hashed)
    expect((await accept(zap.id, hostile)).concurrency_key).toBe(first)
    expect((await accept(zap.id, { ...hostile, user: `${hostile.user.slice(1)}z` })).concurrency_key).not.toBe(first)
  })

  test('webhooks stored together in one batch render their keys the same way', async () => {
    const { token } = await signUp()
    const zap = await createZap(token, { concurrency: { limit: 1, key: '{{trigger.body.a}}{{trigger.body.a}}' } })
    const bodies = [{ a: '{{trigger.body.a}}.' }, { a: 'b'.repeat(200) }, { a: 'c' }]
    const responses = await Promise.all(bodies.map((body) => call(hooks, 'POST', `/hooks/${zap.id}`, { body })))
    const keys = await Promise.all(responses.map(async (response) => (await storedKeys(response.body.runId)).concurrency_key))
    expect(keys[0]).toBe('{{trigger.body.a}}.{{trigger.body.a}}.')
    expect(keys[1]).toMatch(hashed)
    expect(keys[2]).toBe('cc')
  })
})
