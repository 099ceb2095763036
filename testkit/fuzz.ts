import { join } from 'node:path'
import fc from 'fast-check'
import { expect } from 'bun:test'
import { sql } from './http.ts'

/** `bun run test` runs a fixed seed and a bounded number of cases; FUZZ_RUNS and FUZZ_SEED run longer or elsewhere. */
export const fuzzParameters = { seed: Number(Bun.env.FUZZ_SEED ?? 20261125), numRuns: Number(Bun.env.FUZZ_RUNS ?? 120), endOnFailure: true }

const strangeChars = ['\u0000', '\ud800', '\udfff', '\ud83d\ude00', '\u202e', '"', '\\', '{{', '}}', '__proto__', 'é', '\n', '\r\n', '%00']

/** Strings a hostile client sends: NUL, lone surrogates, template braces, long runs. */
export const hostileString = fc.oneof(
  fc.string({ maxLength: 40 }),
  fc.string({ unit: 'binary', maxLength: 40 }),
  fc.array(fc.constantFrom(...strangeChars), { maxLength: 8 }).map((parts) => parts.join('')),
  fc.nat({ max: 300_000 }).map((length) => 'x'.repeat(length)),
)

const key = fc.oneof(fc.constantFrom('__proto__', 'constructor', 'prototype', 'name', 'steps', 'type', 'config', 'email', 'password'), hostileString)

/** JSON-like values: deep, wide, with hostile strings and keys. */
export const hostileValue: fc.Arbitrary<unknown> = fc.letrec<{ value: unknown }>((tie) => ({
  value: fc.oneof(
    { depthSize: 'small', withCrossShrink: true },
    fc.constant(null),
    fc.boolean(),
    fc.double(),
    fc.integer(),
    hostileString,
    fc.array(tie('value'), { maxLength: 5 }),
    fc.dictionary(key, tie('value'), { maxKeys: 5 }),
  ),
})).value

/** Bodies as raw text: JSON of hostile values, deep nesting, wide arrays, broken JSON, a duplicate __proto__. */
export const hostileBody = fc.oneof(
  hostileValue.map((value) => JSON.stringify(value) ?? 'null'),
  fc.nat({ max: 60_000 }).map((depth) => '['.repeat(depth) + ']'.repeat(depth)),
  fc.nat({ max: 60_000 }).map((depth) => '{"a":'.repeat(depth) + '1' + '}'.repeat(depth)),
  fc.nat({ max: 50_000 }).map((width) => `[${'0,'.repeat(width)}0]`),
  fc.constantFrom('', '{', '{"a":', 'null', '"\\u0000"', '"\\ud800"', '{"__proto__":{"polluted":1}}', '{"a":1,"a":2}', '\u0000', '1e999999'),
  hostileString,
)

export const contentType = fc.option(
  fc.oneof(
    fc.constantFrom('application/json', 'application/json; charset=utf-8', 'application/vnd.api+json', 'text/plain', 'application/x-www-form-urlencoded', 'multipart/form-data; boundary=x', 'application/octet-stream', ';;;', 'application/json;'),
    fc.stringMatching(/^[\x20-\x7e]{0,40}$/),
  ),
  { nil: undefined },
)

/** Extra request headers with names and values fetch can send. */
export const extraHeaders = fc.dictionary(
  fc.oneof(fc.constantFrom('idempotency-key', 'webhook-id', 'webhook-timestamp', 'webhook-signature', 'x-request-id', 'cookie', 'accept', 'content-encoding'), fc.stringMatching(/^[a-z][a-z0-9-]{0,20}$/)),
  fc.oneof(fc.stringMatching(/^[\x20-\x7e]{0,60}$/), fc.nat({ max: 8000 }).map((length) => 'k'.repeat(length))),
  { maxKeys: 4 },
)

export const pathId = fc.oneof(
  fc.uuid(),
  fc.constantFrom('not-a-uuid', '00000000-0000-0000-0000-000000000000', '%00', '..%2F..', 'x'.repeat(3000), '%F0%9F%98%80', '%ED%A0%80'),
  fc.stringMatching(/^[A-Za-z0-9._~-]{1,50}$/),
)

/** What a fuzzed response must be: never 5xx, never a stack trace, every 4xx an `{error:{code,message}}`. */
export function expectWellFormedRefusalOrSuccess(request: string, status: number, text: string) {
  const where = `${request} -> ${status} ${text.slice(0, 300)}`
  expect(status < 500, where).toBeTrue()
  expect(/\n\s+at |\.ts:\d+|node_modules/.test(text), where).toBeFalse()
  // 431: Bun's HTTP parser refuses oversized headers before zap sees the request, with an empty body.
  if (status >= 400 && status !== 431) {
    const body = parseOrNull(text) as { error?: { code?: unknown; message?: unknown } } | null
    expect(typeof body?.error?.code, where).toBe('string')
    expect(typeof body?.error?.message, where).toBe('string')
  }
}

function parseOrNull(text: string) {
  try {
    return JSON.parse(text) as unknown
  } catch {
    return null
  }
}

/** Row counts of everything a request could store. */
export async function storedCounts() {
  const [row] = await sql`
    select (select count(*) from users) as users, (select count(*) from zaps) as zaps, (select count(*) from zap_versions) as versions,
      (select count(*) from runs) as runs, (select count(*) from outbox) as outbox`
  return JSON.stringify(row)
}

/** Probes /healthz from a separate process while `work` runs; returns every answer time in milliseconds. */
export async function healthLatenciesDuring(urls: string[], work: () => Promise<void>) {
  const probe = Bun.spawn(['bun', join(import.meta.dir, 'health-probe.ts'), ...urls], { stdout: 'pipe', stderr: 'inherit' })
  try {
    await work()
  } finally {
    probe.kill()
    await probe.exited
  }
  const lines = (await new Response(probe.stdout).text()).split('\n').filter(Boolean)
  expect(lines).not.toContain('failed')
  return lines.map(Number)
}

/**
 * /healthz answered in under 100 ms nearly every time while the fuzzer ran; the rest of the tail allows for
 * this shared machine's scheduling, but never a stall.
 */
export function expectHealthStayedFast(latencies: number[]) {
  console.log(`healthz during fuzzing: ${latencies.length} probes, median ${percentile(latencies, 0.5).toFixed(1)} ms, p95 ${percentile(latencies, 0.95).toFixed(1)} ms, max ${Math.max(...latencies).toFixed(1)} ms`)
  expect(latencies.length).toBeGreaterThan(0)
  expect(percentile(latencies, 0.95)).toBeLessThan(100)
  expect(Math.max(...latencies)).toBeLessThan(1_000)
}

const percentile = (values: number[], fraction: number) => [...values].sort((a, b) => a - b)[Math.min(values.length - 1, Math.floor(values.length * fraction))]!
