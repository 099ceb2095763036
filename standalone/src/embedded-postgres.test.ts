import { afterAll, describe, expect, test } from 'bun:test'
import { chmod, mkdtemp, readFile, rm, stat, unlink, writeFile } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { startEmbeddedPostgres, type EmbeddedServer } from './embedded-postgres.ts'
import { failureCode } from '@zap/testkit/postgres'

const dirs: string[] = []
const servers: EmbeddedServer[] = []

afterAll(async () => {
  for (const server of servers) await server.stop()
  for (const dir of dirs) await rm(dir, { recursive: true, force: true })
}, 60_000)

// Reachable by the postgres user when the tests run as root, so the data stays in the temp folder.
async function dataDir() {
  const dir = await mkdtemp(join(tmpdir(), 'zap-embedded-'))
  await chmod(dir, 0o755)
  dirs.push(dir)
  return dir
}

async function start(dir: string) {
  const server = await startEmbeddedPostgres(dir)
  servers.push(server)
  return server
}

async function query(url: string) {
  const sql = postgres(url, { max: 1, onnotice: () => {} })
  try {
    return (await sql`select 1 as one`)[0]!.one
  } finally {
    await sql.end()
  }
}

function isAlive(pid: number) {
  try {
    process.kill(pid, 0)
    return true
  } catch {
    return false
  }
}

const postmasterPid = async (dir: string) => Number((await Bun.file(join(dir, 'data', 'postmaster.pid')).text()).split('\n')[0])

describe('embedded PostgreSQL', () => {
  test('a server left running by a killed process is stopped and the data served again', async () => {
    const dir = await dataDir()
    const first = await startEmbeddedPostgres(dir)
    const leftover = await postmasterPid(dir)
    const second = await start(dir)
    expect(isAlive(leftover)).toBe(false)
    expect(await query(second.url)).toBe(1)
    await first.stop()
  }, 60_000)

  test('a stale postmaster.pid naming a live process that is not a postmaster never gets it signalled', async () => {
    const dir = await dataDir()
    const server = await startEmbeddedPostgres(dir)
    await server.stop()
    const bystander = Bun.spawn(['sleep', '300'])
    try {
      const pidFile = join(dir, 'data', 'postmaster.pid')
      await writeFile(pidFile, `${bystander.pid}\n${join(dir, 'data')}\n`)
      const outcome = await start(dir).then(
        (restarted) => query(restarted.url),
        (error: Error) => error.message,
      )
      expect(isAlive(bystander.pid)).toBe(true)
      // PostgreSQL itself decides: as another user it cannot see the pid and takes the file over;
      // as the same user it refuses and says why.
      if (outcome !== 1) expect(outcome).toContain('lock file "postmaster.pid" already exists')
    } finally {
      bystander.kill('SIGKILL')
    }
  }, 60_000)

  test("a garbage postmaster.pid stops the start with PostgreSQL's own message", async () => {
    const dir = await dataDir()
    const server = await startEmbeddedPostgres(dir)
    await server.stop()
    await writeFile(join(dir, 'data', 'postmaster.pid'), 'garbage\n')
    const error = await startEmbeddedPostgres(dir).then(() => null, (error: Error) => error.message)
    expect(error).toContain('FATAL: bogus data in lock file "postmaster.pid"')
    expect(error).not.toContain('\n')
  }, 60_000)

  test('a postmaster still running after its pid file was deleted is found, stopped, and the data served again', async () => {
    const dir = await dataDir()
    const orphan = await startEmbeddedPostgres(dir)
    const orphanPid = await postmasterPid(dir)
    await unlink(join(dir, 'data', 'postmaster.pid'))
    const second = await start(dir)
    expect(isAlive(orphanPid)).toBe(false)
    expect(await query(second.url)).toBe(1)
    await orphan.stop()
  }, 60_000)

  test('the superuser has a random password kept beside the data, readable by its owner alone, and the services a role that is no superuser', async () => {
    const dir = await dataDir()
    const server = await start(dir)
    const credentials = join(dir, 'credentials.json')
    expect((await stat(credentials)).mode & 0o777).toBe(0o600)
    const { superuser } = JSON.parse(await readFile(credentials, 'utf8')) as { superuser: string }
    expect(server.superuserUrl).toContain(`postgres:${superuser}@`)
    expect(await failureCode(`postgres://postgres:postgres@127.0.0.1:${server.port}/zap`, 'select 1')).toBe('28P01')
    expect(await failureCode(server.url, "copy (select 1) to program 'true'")).toBe('42501')
    expect(await failureCode(server.url, 'select rolpassword from pg_authid')).toBe('42501')
  }, 60_000)

  test('data from before the random passwords loses the well-known password, and its tables pass to the services role', async () => {
    const dir = await dataDir()
    const first = await startEmbeddedPostgres(dir)
    const admin = postgres(first.superuserUrl, { max: 1, onnotice: () => {} })
    await admin.unsafe(`create table legacy (id bigint generated always as identity primary key, note text);
      create function legacy_note() returns text language sql as $$ select 'old' $$;
      alter role postgres with password 'postgres'; alter database zap owner to postgres; drop role zap`)
    await admin.end()
    await first.stop()
    await unlink(join(dir, 'credentials.json'))

    const upgraded = await start(dir)
    expect(await failureCode(`postgres://postgres:postgres@127.0.0.1:${upgraded.port}/zap`, 'select 1')).toBe('28P01')
    const sql = postgres(upgraded.url, { max: 1, onnotice: () => {} })
    try {
      await sql`insert into legacy (note) values (legacy_note())`
      await sql`alter table legacy add column added text`
      expect([...(await sql`select note from legacy`)]).toEqual([{ note: 'old' }])
    } finally {
      await sql.end()
    }
  }, 60_000)
})
