import { chmod, mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { connect, type Sql } from '@zap/sql/db'
import { migrate } from '@zap/sql/migrate'
import { startEmbeddedPostgres } from '@zap/standalone/embedded-postgres'
import { startKafka } from '@zap/testkit/kafka'
import { startService, type Service } from '@zap/testkit/services'
import { startSink } from './sink.ts'

export type Stack = Awaited<ReturnType<typeof startStack>>

const serviceEnv = {
  ALLOW_PRIVATE_TARGETS: 'true',
  KAFKAJS_NO_PARTITIONER_WARNING: '1',
  DATABASE_POOL_SIZE: '10',
  JWT_SECRET: 'bench-secret-that-is-long-enough-for-hs256',
}

// PostgreSQL's durability defaults (fsync, synchronous_commit on) stay: a 202 means the run is on disk.
// shared_buffers is sized as a deployment would (its 128 MB default is meant to start anywhere): with
// 5,000,000 runs stored (7 GB with indexes) the default cut the maximum end-to-end rate to 0.54x of
// the empty tables' and ingestion to 0.8x; with 1 GB they stayed at 0.98x and 1.00x.
const postgresFlags = ['-c', 'max_connections=200', '-c', 'shared_buffers=1GB', '-c', 'shared_preload_libraries=pg_stat_statements']

/** PostgreSQL with its default durability, a Kafka broker, the four services and a sink answering 200. */
export async function startStack(log: (line: string) => void) {
  log('starting PostgreSQL (durable: fsync and synchronous_commit on) and Kafka')
  const dataDir = await mkdtemp(join(tmpdir(), 'zap-bench-pg-'))
  await chmod(dataDir, 0o755)
  const [server, kafka] = await startBoth(startEmbeddedPostgres(dataDir, { flags: postgresFlags }), startKafka(), dataDir)
  // pg_stat_statements and its reset are the superuser's.
  const postgres = { ...server, url: server.superuserUrl }
  const sql: Sql = connect(postgres.url, { max: 60 })
  await migrate(sql)
  await sql`create extension if not exists pg_stat_statements`
  const [settings] = await sql<{ fsync: string; synchronousCommit: string }[]>`
    select current_setting('fsync') as fsync, current_setting('synchronous_commit') as "synchronousCommit"`
  if (settings!.fsync !== 'on' || settings!.synchronousCommit !== 'on') throw new Error(`PostgreSQL is not durable: ${JSON.stringify(settings)}`)
  log('starting api, hooks, processor and worker')
  const env = { ...serviceEnv, DATABASE_URL: postgres.url, KAFKA_BROKERS: kafka.brokers }
  const services = {
    api: await startService('api', env),
    hooks: await startService('hooks', env),
    processor: await startService('processor', env),
    worker: await startService('worker', env),
  }
  const sink = await startSink()
  const pipeline = ['hooks', 'processor', 'worker'] as const
  return {
    sql,
    postgres,
    kafka,
    services,
    sink,
    pids: Object.fromEntries(Object.entries(services).map(([name, service]) => [name, service.process.pid])),
    /** Starts one more copy of a service on the stack, for the caller to stop. */
    startAnother: (name: Service) => startService(name, env),
    /** Replaces hooks, processor and worker with those of `checkout` (this one by default), hooks on the same port. */
    async swapPipeline(checkout?: string) {
      await Promise.all(pipeline.map((name) => services[name].stop()))
      const hooksPort = String(services.hooks.port)
      for (const name of pipeline) services[name] = await startService(name, { ...env, HOOKS_PORT: hooksPort }, 20_000, checkout)
    },
    async stop() {
      await sink.stop()
      for (const service of Object.values(services)) service.process.kill('SIGCONT')
      await Promise.all(Object.values(services).map((service) => service.stop()))
      await sql.end({ timeout: 5 })
      await Promise.all([postgres.stop(), kafka.stop()])
      await rm(dataDir, { recursive: true, force: true })
    },
  }
}

/**
 * VACUUM ANALYZE of the tables a phase churns, then a checkpoint: what one phase deleted (the outbox
 * rows of an ingestion phase, pruned runs) is cleaned up before the next is measured, not by
 * autovacuum during it, and the next starts with fresh statistics. pgbench vacuums before its runs for
 * the same reason. Left to autovacuum (which first reached a new cluster's database two minutes after
 * start, then once a minute), 100,000 dead outbox rows cost PostgreSQL 14% more CPU per run at 500/s
 * and the median run 8 ms (4 interleaved lab rounds each).
 */
export async function settleTables(sql: Sql) {
  await sql`vacuum analyze outbox, runs, run_steps`
  await sql`checkpoint`
}

// When one of them fails to start (Kafka on a starved machine), the other is stopped, not left behind.
async function startBoth<P extends { stop: () => Promise<unknown> }, K extends { stop: () => Promise<unknown> }>(postgres: Promise<P>, kafka: Promise<K>, dataDir: string): Promise<[P, K]> {
  const [started, broker] = await Promise.allSettled([postgres, kafka])
  if (started.status === 'fulfilled' && broker.status === 'fulfilled') return [started.value, broker.value]
  await Promise.allSettled([started.status === 'fulfilled' && started.value.stop(), broker.status === 'fulfilled' && broker.value.stop()])
  await rm(dataDir, { recursive: true, force: true })
  throw started.status === 'rejected' ? started.reason : (broker as PromiseRejectedResult).reason
}
