import { join } from 'node:path'

const root = join(import.meta.dir, '..', '..')
const bin = join(root, 'cli', 'src', 'bin.ts')
export const referencePath = join(root, 'docs', 'cli.md')
const marker = '<!-- Generated from `zap --help` by `bun run docs:cli`; do not edit below this line. -->'

/**
 * The CLI reference: every command's `--help`, as a user with the default config directory and an
 * 80-column pipe sees it. Commands are found by walking the help itself, so a new one appears here.
 */
export async function renderCliReference() {
  const sections: string[] = []
  const visit = async (path: string[]) => {
    const help = await helpOf(path)
    sections.push(`### \`${['zap', ...path].join(' ')}\`\n\n\`\`\`text\n${help.trimEnd()}\n\`\`\``)
    for (const name of subcommandsIn(help)) await visit([...path, name])
  }
  await visit([])
  return `${marker}\n\n${sections.join('\n\n')}\n`
}

/** docs/cli.md with its generated part replaced by `reference`. */
export function withReference(document: string, reference: string) {
  const at = document.indexOf(marker)
  if (at < 0) throw new Error(`${referencePath} has no line "${marker}"`)
  return document.slice(0, at) + reference
}

async function helpOf(path: string[]) {
  const child = Bun.spawn(['bun', bin, ...path, '--help'], {
    env: { PATH: Bun.env.PATH ?? '', HOME: Bun.env.HOME ?? '', XDG_CONFIG_HOME: '~/.config', NO_COLOR: '1', ZAP_INVOKED_AS: 'zap' },
    stdout: 'pipe',
    stderr: 'pipe',
  })
  const [stdout, stderr, exitCode] = await Promise.all([new Response(child.stdout).text(), new Response(child.stderr).text(), child.exited])
  if (exitCode !== 0) throw new Error(`zap ${path.join(' ')} --help exited ${exitCode}: ${stderr}`)
  return stdout
}

function subcommandsIn(help: string) {
  const commands = help.split('\nCommands:\n')[1]?.split('\n\n')[0] ?? ''
  return [...commands.matchAll(/^ {2}([a-z][\w-]*)/gm)].map((match) => match[1]!).filter((name) => name !== 'help')
}

if (import.meta.main) {
  const document = await Bun.file(referencePath).text()
  await Bun.write(referencePath, withReference(document, await renderCliReference()))
  console.log(`wrote ${referencePath}`)
}
