import { chmod, mkdir } from 'node:fs/promises'
import { join } from 'node:path'

/** The one-process mode's JWT secret: generated once and kept in the data dir, so logins survive restarts. */
export async function jwtSecret(dataDir: string) {
  const file = Bun.file(join(dataDir, 'jwt-secret'))
  if (await file.exists()) return (await file.text()).trim()
  await mkdir(dataDir, { recursive: true })
  const secret = Buffer.from(crypto.getRandomValues(new Uint8Array(32))).toString('hex')
  await Bun.write(file, secret)
  await chmod(file.name!, 0o600)
  return secret
}
