import { readdir } from 'node:fs/promises'
import { join } from 'node:path'
import type { Sql } from 'postgres'
import * as v from 'valibot'
import { databaseUrl, readEnv } from '@zap/lib/env'
import { connect } from './db.ts'

const migrationsDir = join(import.meta.dir, '..', 'migrations')
const lockId = 7_280_447_301

/** Applies pending migrations in order, each in its own transaction; refuses gaps and unknown files. */
export async function migrate(sql: Sql, log: (line: string) => void = () => {}) {
  const files = await readMigrations()
  await sql`create table if not exists schema_migrations (version integer primary key, name text not null, applied_at timestamptz not null default now())`
  for (const file of files) {
    const applied = await sql.begin(async (tx) => {
      await tx`select pg_advisory_xact_lock(${lockId})`
      const [done] = await tx`select 1 from schema_migrations where version = ${file.version}`
      if (done) return false
      await tx.unsafe(await Bun.file(join(migrationsDir, file.name)).text())
      await tx`insert into schema_migrations ${tx({ version: file.version, name: file.name })}`
      return true
    })
    if (applied) log(`applied ${file.name}`)
  }
  const [newest] = await sql<{ version: number }[]>`select max(version) as version from schema_migrations`
  if ((newest?.version ?? 0) > files.length) {
    throw new Error(`The database has migration ${newest?.version} but only ${files.length} exist here; is this an older checkout?`)
  }
}

async function readMigrations() {
  const names = (await readdir(migrationsDir)).filter((name) => name.endsWith('.sql')).sort()
  return names.map((name, index) => {
    const version = Number(name.match(/^(\d+)_/)?.[1])
    if (version !== index + 1) throw new Error(`Migration ${name} is out of sequence: expected number ${index + 1} (migrations are numbered 00001_ upwards without gaps)`)
    return { version, name }
  })
}

if (import.meta.main) {
  const env = readEnv(v.object({ DATABASE_URL: databaseUrl }))
  const sql = connect(env.DATABASE_URL, { max: 1 })
  await migrate(sql, console.log)
  console.log('migrations up to date')
  await sql.end()
}
