import { chmodSync, mkdtempSync } from 'node:fs'
import { rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import postgres from 'postgres'
import { migrate } from '@zap/sql/migrate'
import { startPostgres, type RunningPostgres } from './postgres.ts'
import { startKafka } from './kafka.ts'
import { markProcessTree, reapLeakedProcesses } from './process-leaks.ts'

/**
 * `bun run test`: brings up a real PostgreSQL and a real Kafka broker (or uses DATABASE_URL and
 * KAFKA_BROKERS), gives the run a fresh database, runs `bun test`, and tears everything down. It fails
 * when any process it or the tests started is still running at the end. What the tests put in the
 * temporary directory (config dirs, request bodies, a compiled CLI) goes into one folder of the run,
 * removed at the end.
 */
const marker = markProcessTree()
const runTmp = mkdtempSync(join(tmpdir(), 'zap-test-run-'))
chmodSync(runTmp, 0o755) // an embedded PostgreSQL runs as its own user and must reach its data dir in it
const cleanups: (() => Promise<unknown>)[] = [() => rm(runTmp, { recursive: true, force: true })]
let exitCode = 1
try {
  const server: RunningPostgres | null = Bun.env.DATABASE_URL ? null : await startPostgres()
  if (server) cleanups.push(server.stop)
  const databaseUrl = await createTestDatabase(Bun.env.DATABASE_URL ?? server!.url)
  const kafka = Bun.env.KAFKA_BROKERS ? null : await startKafka()
  if (kafka) cleanups.push(kafka.stop)
  const brokers = Bun.env.KAFKA_BROKERS ?? kafka!.brokers
  console.log(`PostgreSQL: ${databaseUrl.replace(/:[^:@/]+@/, ':***@')}\nKafka: ${brokers}`)
  const tests = Bun.spawn(['bun', 'test', '--timeout', '30000', ...process.argv.slice(2)], {
    env: { ...Bun.env, TMPDIR: runTmp, DATABASE_URL: databaseUrl, KAFKA_BROKERS: brokers, KAFKAJS_NO_PARTITIONER_WARNING: '1' },
    stdio: ['inherit', 'inherit', 'inherit'],
  })
  for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => tests.kill(signal))
  exitCode = await tests.exited
} catch (error) {
  console.error(error instanceof Error ? error.message : error)
} finally {
  for (const cleanup of cleanups.reverse()) await cleanup().catch((error) => console.error('cleanup failed:', error))
}
const leaked = await reapLeakedProcesses(marker)
if (leaked.length > 0) {
  console.error(`\n${leaked.length} process(es) started by this test run were still running at the end (now killed):`)
  for (const { pid, command } of leaked) console.error(`  ${pid}  ${command}`)
  exitCode = 1
}
process.exit(exitCode)

async function createTestDatabase(serverUrl: string) {
  const name = `zap_test_${Date.now().toString(36)}_${process.pid}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  await admin.end()
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const sql = postgres(url.toString(), { max: 1, onnotice: () => {} })
  await migrate(sql)
  await sql.end()
  if (Bun.env.DATABASE_URL) {
    cleanups.push(async () => {
      const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    })
  }
  return url.toString()
}
