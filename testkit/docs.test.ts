import { describe, expect, test } from 'bun:test'
import { existsSync, readdirSync, readFileSync } from 'node:fs'
import { dirname, join, resolve } from 'node:path'

const root = join(import.meta.dir, '..')
const documents = ['README.md', 'CHANGELOG.md', 'examples/README.md', ...readdirSync(join(root, 'docs')).map((file) => `docs/${file}`)]
const read = (path: string) => readFileSync(join(root, path), 'utf8')

describe('the documentation', () => {
  test('the README is a landing page under 250 lines that links every document in docs/', () => {
    const readme = read('README.md')
    expect(readme.split('\n').length).toBeLessThan(250)
    for (const file of readdirSync(join(root, 'docs'))) expect(readme).toContain(`](docs/${file})`)
  })

  test('every document in docs/ starts by saying what a reader gets from it', () => {
    for (const path of documents.filter((path) => path.startsWith('docs/'))) {
      expect(read(path).split('\n\n')[1], path).toStartWith('What you get here:')
    }
  })

  test('every relative link in the README, CHANGELOG, docs/ and examples/ points at a file that exists', () => {
    for (const path of documents) {
      for (const [, target] of read(path).matchAll(/\]\(([^)#\s]+)(#[^)]*)?\)/g)) {
        if (/^[a-z]+:/.test(target!)) continue
        expect(existsSync(resolve(dirname(join(root, path)), target!)), `${path} links ${target}`).toBe(true)
      }
    }
  })
})
