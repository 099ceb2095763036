import { describe, expect, test } from 'bun:test'
import { referencePath, renderCliReference, withReference } from './reference.ts'

describe('docs/cli.md', () => {
  test("holds every command's --help exactly as the CLI prints it (run `bun run docs:cli` after changing one)", async () => {
    const document = await Bun.file(referencePath).text()
    const reference = await renderCliReference()
    for (const command of ['zap', 'zap zaps create', 'zap zaps rejections', 'zap runs replay', 'zap alerts secret', 'zap dev']) {
      expect(reference).toContain(`### \`${command}\`\n`)
    }
    expect(withReference(document, reference)).toBe(document)
  }, 60_000)
})
