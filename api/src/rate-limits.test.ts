import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { request } from 'node:http'
import { addressGroup } from './auth.ts'
import { startService, type RunningService } from '@zap/testkit/services'

let api: RunningService

beforeAll(async () => {
  // The production defaults for accounts; addresses get a little more room so several tests can share one.
  api = await startService('api', {
    LOGIN_RATE_LIMIT_PER_IP: '100/15m',
    LOGIN_RATE_LIMIT_PER_ACCOUNT: '100/15m',
    LOGIN_SLOWDOWN_PER_ACCOUNT_ADDRESS: '5/15m',
    SIGNUP_RATE_LIMIT_PER_IP: '12/1h',
    SIGNUP_RATE_LIMIT_PER_ACCOUNT: '5/1h',
  })
})

afterAll(async () => {
  await api?.stop()
})

const post = (path: string, body: unknown) =>
  fetch(`${api.url}/api/v1/auth/${path}`, { method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify(body) })

// Loopback holds all of 127.0.0.0/8, so a test can be many clients.
function postFrom(localAddress: string, path: string, body: unknown) {
  const url = new URL(`${api.url}/api/v1/auth/${path}`)
  return new Promise<{ status: number; headers: Record<string, string | string[] | undefined>; body: string }>((resolve, reject) => {
    const sent = request({ host: '127.0.0.1', port: url.port, path: url.pathname, method: 'POST', localAddress, headers: { 'content-type': 'application/json' } }, (response) => {
      let text = ''
      response.on('data', (chunk) => (text += chunk))
      response.on('end', () => resolve({ status: response.statusCode!, headers: response.headers, body: text }))
    })
    sent.on('error', reject)
    sent.end(JSON.stringify(body))
  })
}

describe('login and signup rate limits', () => {
  test('a guesser at one address is slowed down after 5 attempts, while the owner at another address logs in at once', async () => {
    const email = `brute-${crypto.randomUUID()}@example.com`
    const password = 'the right password'
    expect((await post('signup', { email, password, name: 'Victim' })).status).toBe(201)
    const guess = (i: number) => postFrom('127.0.0.2', 'login', { email, password: `guess number ${i}` })
    const free = []
    for (let i = 0; i < 5; i++) free.push((await guess(i)).status)
    expect(free).toEqual([401, 401, 401, 401, 401])
    expect((await guess(5)).status).toBe(401)
    const parallel = await Promise.all(Array.from({ length: 30 }, (_, i) => guess(6 + i)))
    // The next attempt's turn may come while the 6th is hashed on a loaded machine: one more at most.
    expect(parallel.filter((response) => response.status === 401).length).toBeLessThanOrEqual(1)
    const limited = parallel.filter((response) => response.status === 429)
    expect(limited.length).toBeGreaterThanOrEqual(29)
    const retryAfter = Number(limited[0]!.headers['retry-after'])
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(15 * 60)
    expect((JSON.parse(limited[0]!.body) as { error: { code: string } }).error.code).toBe('rate_limited')
    expect((await postFrom('127.0.0.2', 'login', { email, password })).status).toBe(429)
    expect((await postFrom('127.0.0.3', 'login', { email, password })).status).toBe(200)
  }, 120_000)

  test('60 parallel wrong passwords from one address let at most 6 reach the password check', async () => {
    const email = `parallel-${crypto.randomUUID()}@example.com`
    expect((await post('signup', { email, password: 'the right password', name: 'Victim' })).status).toBe(201)
    const responses = await Promise.all(Array.from({ length: 60 }, (_, i) => postFrom('127.0.0.4', 'login', { email, password: `guess number ${i}` })))
    const statuses = responses.map((response) => response.status)
    expect(statuses.filter((status) => status === 401).length).toBeLessThanOrEqual(6)
    expect(statuses.filter((status) => status === 429).length).toBeGreaterThanOrEqual(54)
  }, 120_000)

  test('guessers spread over many addresses meet the per-account ceiling of 100 attempts', async () => {
    const email = `spread-${crypto.randomUUID()}@example.com`
    const password = 'the right password'
    expect((await post('signup', { email, password, name: 'Victim' })).status).toBe(201)
    const statuses: number[] = []
    for (let address = 10; address < 31; address++) {
      const guesses = Array.from({ length: 5 }, (_, i) => postFrom(`127.0.1.${address}`, 'login', { email, password: `guess ${address}.${i}` }))
      statuses.push(...(await Promise.all(guesses)).map((response) => response.status))
    }
    expect(statuses.filter((status) => status === 401).length).toBe(100)
    expect(statuses.filter((status) => status === 429).length).toBe(5)
    expect((await postFrom('127.0.1.99', 'login', { email, password })).status).toBe(429)
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

describe('the address a client is counted by', () => {
  test('is the IPv4 address, also when mapped into IPv6, and the /64 of an IPv6 address', () => {
    expect(addressGroup('::ffff:127.0.0.1')).toBe('127.0.0.1')
    expect(addressGroup('127.0.0.1')).toBe('127.0.0.1')
    expect(addressGroup('2001:db8:1:2:aaaa::1')).toBe(addressGroup('2001:db8:1:2:ffff:ffff:ffff:ffff'))
    expect(addressGroup('2001:db8:1:2::1')).toBe('2001:db8:1:2::/64')
    expect(addressGroup('2001:db8:1:3::1')).not.toBe(addressGroup('2001:db8:1:2::1'))
    expect(addressGroup('::1')).toBe('::/64')
    expect(addressGroup(undefined)).toBe('unknown')
  })
})
