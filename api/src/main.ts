import { connect } from '@zap/sql/db'
import { createApi } from './app.ts'
import { readApiEnv } from './env.ts'
import { stopOnSignals } from '@zap/lib/shutdown'

const env = readApiEnv()
if (!env.JWT_SECRET) console.warn('JWT_SECRET is not set: using a random secret, so tokens stop working when the API restarts')
const sql = connect(env.DATABASE_URL, { max: env.DATABASE_POOL_SIZE })
const app = createApi({
  sql,
  auth: { secret: env.JWT_SECRET ?? crypto.getRandomValues(new Uint8Array(32)).toHex(), ttlSeconds: env.JWT_TTL_SECONDS },
  hooksUrl: env.PUBLIC_HOOKS_URL,
  smtpConfigured: env.SMTP_URL !== undefined,
}).listen({ port: env.API_PORT, reusePort: false })

console.log(`zap api listening on http://localhost:${app.server?.port}`)

stopOnSignals(async () => {
  await app.stop()
  await sql.end({ timeout: 5 })
})
