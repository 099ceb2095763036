import {
  closeSync, existsSync, mkdirSync, mkdtempSync, openSync, readFileSync, renameSync, rmSync, writeFileSync,
} from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'
import { Kafka, logLevel } from 'kafkajs'
import type { Subprocess } from 'bun'

export type KafkaBroker = {
  brokers: string
  stop(): Promise<void>
  /** Stops the broker but keeps its ports and data, to simulate Kafka going away. */
  pause(): Promise<void>
  /** Kills the broker with SIGKILL, as a crash would, keeping its ports and data for `resume`. */
  kill(): Promise<void>
  /** Starts the paused or killed broker again on the same ports and data and waits until it serves. */
  resume(): Promise<void>
}

const brokerFiles = join(import.meta.dir, 'kafka')
const pomPath = join(brokerFiles, 'pom.xml')
const kafkaVersion = readKafkaVersion()
const readyTimeoutMs = 60_000
const stopGraceMs = 5_000
// A test broker lives seconds and moves little data: the quick JIT tier alone starts it ~20% faster.
const fastStartJvm = ['-XX:TieredStopAtLevel=1']
const installHint =
  'A real Kafka broker for tests runs from Apache Kafka jars: install Java 17+ and Maven ' +
  '(Debian: apt-get install openjdk-17-jdk-headless maven).'

/**
 * Starts a single-node KRaft Kafka broker on 127.0.0.1 from Maven Central jars; `autoCreateTopics: false`
 * refuses to make a topic nobody created, as production brokers often do.
 */
export async function startKafka(options: { cacheDir?: string; autoCreateTopics?: boolean } = {}): Promise<KafkaBroker> {
  requireCommand('java', 'to run the Kafka broker')
  const libs = await fetchKafkaJars(options.cacheDir ?? join(import.meta.dir, '..', '.cache', 'kafka', kafkaVersion))
  const dataDir = mkdtempSync(join(tmpdir(), 'zap-kafka-'))
  const [brokerPort, controllerPort] = pickFreePorts()
  const brokers = `127.0.0.1:${brokerPort}`
  const configPath = join(dataDir, 'server.properties')
  const logPath = join(dataDir, 'broker.log')
  writeFileSync(configPath, serverProperties(brokerPort, controllerPort, join(dataDir, 'logs'), options.autoCreateTopics ?? true))

  let broker: Subprocess | undefined
  const abandonBroker = () => {
    broker?.kill('SIGKILL')
    rmSync(dataDir, { recursive: true, force: true, maxRetries: 3 })
  }
  const start = async () => {
    broker = launchBroker(libs, configPath, logPath)
    await waitUntilReady(brokers, broker, logPath)
  }
  const stop = async () => {
    if (broker) await stopProcess(broker)
    process.off('exit', abandonBroker)
    rmSync(dataDir, { recursive: true, force: true })
  }

  process.on('exit', abandonBroker)
  try {
    await formatStorage(libs, configPath)
    await start()
  } catch (error) {
    await stop()
    throw error
  }
  return {
    brokers,
    stop,
    pause: async () => {
      if (broker) await stopProcess(broker)
    },
    kill: async () => {
      broker?.kill('SIGKILL')
      await broker?.exited
    },
    resume: start,
  }
}

async function fetchKafkaJars(cacheDir: string) {
  const libs = join(cacheDir, 'libs')
  if (existsSync(libs)) return libs
  requireCommand('mvn', `to fetch the Kafka ${kafkaVersion} jars from Maven Central once`)
  mkdirSync(cacheDir, { recursive: true })
  const download = `${libs}.partial-${process.pid}`
  const { exitCode, output } = await run([
    'mvn', '-B', '-q', '-f', pomPath, 'dependency:copy-dependencies', `-DoutputDirectory=${download}`,
  ])
  if (exitCode !== 0) {
    rmSync(download, { recursive: true, force: true })
    throw new Error(`Fetching the Kafka ${kafkaVersion} jars with Maven failed (exit ${exitCode}). ${installHint}\n${tail(output)}`)
  }
  try {
    renameSync(download, libs)
  } catch (error) {
    rmSync(download, { recursive: true, force: true })
    if (!existsSync(libs)) throw error
  }
  return libs
}

async function formatStorage(libs: string, configPath: string) {
  const { exitCode, output } = await run([
    'java', ...fastStartJvm, '-cp', `${libs}/*`, 'kafka.tools.StorageTool', 'format',
    `--cluster-id=${randomClusterId()}`, `--config=${configPath}`,
  ])
  if (exitCode !== 0) {
    throw new Error(`Formatting the Kafka storage with the jars in ${libs} failed (exit ${exitCode}). ${installHint}\n${tail(output)}`)
  }
}

function launchBroker(libs: string, configPath: string, logPath: string) {
  const log = openSync(logPath, 'a')
  const broker = Bun.spawn([
    ...dieWithParent(),
    'java',
    ...fastStartJvm,
    '-Xmx512m',
    '-XX:+UseG1GC',
    '-XX:MaxGCPauseMillis=20',
    '-XX:InitiatingHeapOccupancyPercent=35',
    '-XX:+ExplicitGCInvokesConcurrent',
    '-Djava.awt.headless=true',
    `-Dlog4j2.configurationFile=${join(brokerFiles, 'log4j2.properties')}`,
    '-cp',
    `${libs}/*`,
    'kafka.Kafka',
    configPath,
  ], { stdin: 'ignore', stdout: log, stderr: log })
  closeSync(log)
  return broker
}

// setpriv has Linux kill the broker when this process dies, even where no 'exit' handler runs (SIGKILL).
function dieWithParent() {
  return Bun.which('setpriv') ? ['setpriv', '--pdeathsig', 'KILL'] : []
}

async function waitUntilReady(brokers: string, broker: Subprocess, logPath: string) {
  const kafka = new Kafka({
    clientId: 'zap-testkit',
    brokers: [brokers],
    logLevel: logLevel.NOTHING,
    connectionTimeout: 1000,
    retry: { retries: 0 },
  })
  const deadline = Date.now() + readyTimeoutMs
  while (Date.now() < deadline) {
    if (broker.exitCode !== null || broker.signalCode !== null) {
      const exit = broker.signalCode ?? `exit ${broker.exitCode}`
      throw new Error(`The Kafka broker exited while starting (${exit}). ${installHint}\n${logTail(logPath)}`)
    }
    if (await servesGroups(kafka)) return
    await Bun.sleep(200)
  }
  throw new Error(`The Kafka broker on ${brokers} was not ready after ${readyTimeoutMs / 1000}s. ${installHint}\n${logTail(logPath)}`)
}

// A group lookup creates __consumer_offsets, so the first consumer group of a test joins at once.
async function servesGroups(kafka: Kafka) {
  const admin = kafka.admin()
  try {
    await admin.connect()
    await admin.describeCluster()
    await admin.describeGroups(['zap-testkit-ready'])
    return true
  } catch {
    return false
  } finally {
    await admin.disconnect()
  }
}

async function stopProcess(child: Subprocess) {
  child.kill('SIGTERM')
  const forceKill = setTimeout(() => child.kill('SIGKILL'), stopGraceMs)
  await child.exited
  clearTimeout(forceKill)
}

function serverProperties(brokerPort: number, controllerPort: number, logDir: string, autoCreateTopics: boolean) {
  return `process.roles=broker,controller
node.id=1
controller.quorum.voters=1@127.0.0.1:${controllerPort}
listeners=PLAINTEXT://127.0.0.1:${brokerPort},CONTROLLER://127.0.0.1:${controllerPort}
advertised.listeners=PLAINTEXT://127.0.0.1:${brokerPort}
controller.listener.names=CONTROLLER
listener.security.protocol.map=PLAINTEXT:PLAINTEXT,CONTROLLER:PLAINTEXT
log.dirs=${logDir}
num.partitions=6
auto.create.topics.enable=${autoCreateTopics}
group.initial.rebalance.delay.ms=0
offsets.topic.replication.factor=1
offsets.topic.num.partitions=1
transaction.state.log.replication.factor=1
transaction.state.log.min.isr=1
transaction.state.log.num.partitions=1
share.coordinator.state.topic.replication.factor=1
share.coordinator.state.topic.min.isr=1
# the log cleaner allocates this buffer at start: the 128 MB default adds ~120 MB to the broker's RSS
log.cleaner.dedupe.buffer.size=8388608
`
}

function pickFreePorts(): [broker: number, controller: number] {
  const broker = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  const controller = Bun.listen({ hostname: '127.0.0.1', port: 0, socket: { data() {} } })
  broker.stop(true)
  controller.stop(true)
  return [broker.port, controller.port]
}

// Kafka's Uuid format: 16 random bytes in unpadded base64url.
function randomClusterId() {
  return Buffer.from(crypto.getRandomValues(new Uint8Array(16))).toString('base64url')
}

function readKafkaVersion() {
  const version = readFileSync(pomPath, 'utf8').match(/<kafka\.version>(.+)<\/kafka\.version>/)?.[1]
  if (!version) throw new Error(`Expected a <kafka.version> property in ${pomPath}`)
  return version
}

function requireCommand(command: string, purpose: string) {
  if (!Bun.which(command)) throw new Error(`\`${command}\` was not found on PATH; it is needed ${purpose}. ${installHint}`)
}

async function run(command: string[]) {
  const child = Bun.spawn(command, { stdin: 'ignore', stdout: 'pipe', stderr: 'pipe' })
  const [stdout, stderr, exitCode] = await Promise.all([
    new Response(child.stdout).text(),
    new Response(child.stderr).text(),
    child.exited,
  ])
  return { exitCode, output: stdout + stderr }
}

function logTail(logPath: string) {
  return `The broker log ends with:\n${tail(existsSync(logPath) ? readFileSync(logPath, 'utf8') : '')}`
}

function tail(text: string, lines = 40) {
  return text.trimEnd().split('\n').slice(-lines).join('\n')
}

if (import.meta.main) {
  const kafka = await startKafka()
  console.log(`KAFKA_BROKERS=${kafka.brokers}`)
  const shutdown = async () => {
    await kafka.stop()
    process.exit(0)
  }
  process.once('SIGINT', shutdown)
  process.once('SIGTERM', shutdown)
}
