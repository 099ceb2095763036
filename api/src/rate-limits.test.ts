import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { startService, type RunningService } from '@zap/testkit/services'

let api: RunningService

beforeAll(async () => {
  // The production defaults for accounts; addresses get a little more room so several tests can share one.
  api = await startService('api', {
    LOGIN_RATE_LIMIT_PER_IP: '100/15m',
    LOGIN_RATE_LIMIT_PER_ACCOUNT: '10/15m',
    SIGNUP_RATE_LIMIT_PER_IP: '12/1h',
    SIGNUP_RATE_LIMIT_PER_ACCOUNT: '5/1h',
  })
})

afterAll(async () => {
  await api?.stop()
})

const post = (path: string, body: unknown) =>
  fetch(`${api.url}/api/v1/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

describe('login and signup rate limits', () => {
  test('60 parallel wrong passwords get 429 with Retry-After from the 11th on, and then the right one is refused too', async () => {
    const email = `brute-${crypto.randomUUID()}@example.com`
    const password = 'the right password'
    expect((await post('signup', { email, password, name: 'Victim' })).status).toBe(201)
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => post('login', { email, password: `guess number ${i}` })))
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(10)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(50)
    const limited = responses.find((response) => response.status === 429)!
    expect(Number(limited.headers.get('retry-after'))).toBeGreaterThan(0)
    expect(Number(limited.headers.get('retry-after'))).toBeLessThanOrEqual(15 * 60)
    expect(((await limited.json()) as { error: { code: string } }).error.code).toBe('rate_limited')
    const right = await post('login', { email, password })
    expect(right.status).toBe(429)
  }, 120_000)

  test('a successful login clears its account count', async () => {
    const email = `ok-${crypto.randomUUID()}@example.com`
    const password = 'the right password'
    expect((await post('signup', { email, password, name: 'Ada' })).status).toBe(201)
    for (let round = 0; round < 3; round++) {
      for (let i = 0; i < 4; i++) expect((await post('login', { email, password: 'wrong password' })).status).toBe(401)
      expect((await post('login', { email, password })).status).toBe(200)
    }
  }, 120_000)

  test('signups of one address are limited per account and per client address', async () => {
    const email = `again-${crypto.randomUUID()}@example.com`
    const statuses = []
    for (let i = 0; i < 7; i++) statuses.push((await post('signup', { email, password: 'long enough password', name: 'Again' })).status)
    expect(statuses).toEqual([201, 409, 409, 409, 409, 429, 429])
    const others = []
    for (let i = 0; i < 8; i++) others.push((await post('signup', { email: `ip-${crypto.randomUUID()}@example.com`, password: 'long enough password', name: 'IP' })).status)
    expect(others).toContain(429)
  }, 120_000)
})
