import { describe, expect, test } from 'bun:test'
import { join } from 'node:path'

const logOneLine = async (pretty: boolean) => {
  const script = `import { createLogger } from ${JSON.stringify(join(import.meta.dir, 'log.ts'))}
createLogger('test', { level: 'info', pretty: ${pretty} }).info({ runId: 'r1' }, 'step done')`
  const child = Bun.spawn(['bun', '-e', script], { stdout: 'pipe', stderr: 'pipe' })
  const [stdout] = await Promise.all([new Response(child.stdout).text(), child.exited])
  return stdout
}

describe('the logger', () => {
  test('writes one JSON object per line for machines', async () => {
    const line = JSON.parse(await logOneLine(false))
    expect(line).toMatchObject({ level: 'info', service: 'test', runId: 'r1', msg: 'step done' })
  })

  test('writes readable lines with the fields below them for a person', async () => {
    const output = await logOneLine(true)
    expect(output).toContain('INFO')
    expect(output).toContain('step done')
    expect(output).toMatch(/runId.*r1/)
    expect(() => JSON.parse(output)).toThrow()
  })
})
