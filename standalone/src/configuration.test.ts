import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'
import type * as v from 'valibot'
import { apiEnv } from '@zap/api/env'
import { hooksEnv } from '@zap/hooks/env'
import { processorEnv } from '@zap/processor/env'
import { workerEnv } from '@zap/worker/env'
import { standaloneEnv } from './env.ts'

type AnySchema = v.GenericSchema & { entries?: Record<string, unknown>; pipe?: AnySchema[] }

// An env schema is an object, or a pipe that starts with one.
const variablesOf = (schema: AnySchema): string[] => Object.keys(schema.entries ?? variablesOfPipe(schema))
const variablesOfPipe = (schema: AnySchema) => (schema.pipe?.[0] as AnySchema).entries!

// Read by the OpenTelemetry exporter itself, not by zap's env schemas (worker/src/trace.test.ts uses it).
const readByLibraries = ['OTEL_EXPORTER_OTLP_HEADERS']

const operating = join(import.meta.dir, '..', '..', 'docs', 'operating.md')

/** The variables named in the first column of the configuration table of docs/operating.md. */
function documentedVariables(document: string) {
  const section = document.split(/^## /m).find((part) => part.startsWith('Configuration\n'))
  if (!section) throw new Error('docs/operating.md has no "## Configuration" section')
  const rows = section.split('\n').filter((line) => line.startsWith('| `'))
  return rows.flatMap((row) => [...row.split(' | ')[0]!.matchAll(/`([A-Z][A-Z0-9_]*)`/g)].map((match) => match[1]!))
}

describe('the configuration table of docs/operating.md', () => {
  test('has a row for every variable a service or bun run dev reads, and none for a variable nobody reads', async () => {
    const read = new Set([apiEnv, hooksEnv, processorEnv, workerEnv, standaloneEnv].flatMap((schema) => variablesOf(schema as AnySchema)).concat(readByLibraries))
    expect(read.size).toBeGreaterThan(40)
    const documented = documentedVariables(await Bun.file(operating).text())
    expect([...read].filter((name) => !documented.includes(name)).sort()).toEqual([])
    expect(documented.filter((name) => !read.has(name)).sort()).toEqual([])
    expect(documented.length).toBe(new Set(documented).size)
  })
})
