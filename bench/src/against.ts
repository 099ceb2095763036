import { $ } from 'bun'
import { existsSync } from 'node:fs'
import { mkdir, rm } from 'node:fs/promises'
import { join } from 'node:path'
import type { EndToEnd } from './end-to-end.ts'
import type { Stack } from './stack.ts'

const repoRoot = join(import.meta.dir, '..', '..')

export type Against = { ref: string; commit: string; ours: EndToEnd[]; theirs: EndToEnd[] }

/** A checkout of `ref` (any git revision) under .cache/bench-against/<commit>, with its dependencies installed. */
export async function checkoutOf(ref: string, log: (line: string) => void) {
  const commit = (await $`git rev-parse --verify ${`${ref}^{commit}`}`.cwd(repoRoot).quiet().text()).trim()
  const dir = join(repoRoot, '.cache', 'bench-against', commit)
  if (!existsSync(join(dir, 'package.json'))) {
    log(`checking out ${ref} (${commit.slice(0, 7)}) into ${dir}`)
    await rm(dir, { recursive: true, force: true })
    await mkdir(dir, { recursive: true })
    await $`git archive ${commit} | tar -x -C ${dir}`.cwd(repoRoot).quiet()
  }
  await $`bun install --frozen-lockfile`.cwd(dir).quiet()
  return { ref, commit, dir }
}

/**
 * End to end at the maximum rate with `against`'s hooks, processor and worker, then with this
 * checkout's, alternating `rounds` times on the same PostgreSQL, Kafka and sink: the same run's
 * conditions for both. This checkout's pipeline is running again when it returns.
 */
export async function measureAgainst(stack: Stack, against: { ref: string; commit: string; dir: string }, rounds: number, measureMax: () => Promise<EndToEnd>, log: (line: string) => void): Promise<Against> {
  const ours: EndToEnd[] = []
  const theirs: EndToEnd[] = []
  try {
    for (let round = 1; round <= rounds; round++) {
      log(`end to end at the maximum rate, round ${round} of ${rounds}: ${against.ref} (${against.commit.slice(0, 7)}), then this checkout`)
      await stack.swapPipeline(against.dir)
      theirs.push(await measureMax())
      await stack.swapPipeline()
      ours.push(await measureMax())
    }
  } catch (error) {
    await stack.swapPipeline()
    throw error
  }
  return { ref: against.ref, commit: against.commit, ours, theirs }
}
