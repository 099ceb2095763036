import { describe, expect, test } from 'bun:test'
import { SignJWT } from 'jose'
import { api, auth, call, signUp, sql } from '@zap/testkit/http'

const secret = new TextEncoder().encode(auth.secret)

describe('sign-up and login', () => {
  test('signing up returns the user and a token that works for /me', async () => {
    const { token, email } = await signUp()
    const me = await call(api, 'GET', '/api/v1/me', { token })
    expect(me.status).toBe(200)
    expect(me.body.user.email).toBe(email)
    expect(me.body.user.passwordHash).toBeUndefined()
  })

  test('the password is stored as an argon2id hash of 19 MiB and 2 passes', async () => {
    const { email } = await signUp()
    const { sql } = await import('@zap/testkit/http')
    const [row] = await sql`select password_hash from users where email = ${email}`
    expect(row!.password_hash).toStartWith('$argon2id$v=19$m=19456,t=2,p=1$')
  })

  test('a password hashed with the former 64 MiB settings still logs in', async () => {
    const { email, password } = await signUp()
    const formerHash = await Bun.password.hash(password, { algorithm: 'argon2id', memoryCost: 64 * 1024, timeCost: 2 })
    await sql`update users set password_hash = ${formerHash} where email = ${email}`
    expect((await call(api, 'POST', '/api/v1/auth/login', { body: { email, password } })).status).toBe(200)
    expect((await call(api, 'POST', '/api/v1/auth/login', { body: { email, password: 'not the password' } })).status).toBe(401)
  })

  test('a taken email is 409, whatever its case', async () => {
    const { email } = await signUp()
    const again = await call(api, 'POST', '/api/v1/auth/signup', { body: { email: email.toUpperCase(), password: 'another password', name: 'B' } })
    expect(again.status).toBe(409)
    expect(again.body.error.code).toBe('email_taken')
  })

  test('a short password is 400 naming the field, without echoing the input', async () => {
    const response = await call(api, 'POST', '/api/v1/auth/signup', { body: { email: 'short@example.com', password: 'secret1', name: 'S' } })
    expect(response.status).toBe(400)
    expect(response.body.error.code).toBe('invalid_input')
    expect(response.body.error.message).toContain('password')
    expect(JSON.stringify(response.body)).not.toContain('secret1')
  })

  test('a password among the most common, in any case, is 400 naming the field, and creates no account', async () => {
    for (const password of ['password', 'PassWord1', 'qwertyuiop', 'iloveyou']) {
      const email = `common-${crypto.randomUUID()}@example.com`
      const response = await call(api, 'POST', '/api/v1/auth/signup', { body: { email, password, name: 'C' } })
      expect({ password, status: response.status }).toEqual({ password, status: 400 })
      expect(response.body.error.code).toBe('invalid_input')
      expect(response.body.error.message).toContain('password')
      // "password" is also the field's name.
      if (password !== 'password') expect(JSON.stringify(response.body)).not.toContain(password)
      const [row] = await sql`select count(*)::int as count from users where email = ${email}`
      expect(row!.count).toBe(0)
    }
  })

  test('a password of 8 spaces, or with fewer than 8 characters besides spaces, is 400 naming the field', async () => {
    for (const password of [' '.repeat(8), ' '.repeat(20), 'ab  cd  ef g ']) {
      const response = await call(api, 'POST', '/api/v1/auth/signup', { body: { email: `spaces-${crypto.randomUUID()}@example.com`, password, name: 'S' } })
      expect(response.status).toBe(400)
      expect(response.body.error.message).toContain('password')
    }
    const passphrase = await call(api, 'POST', '/api/v1/auth/signup', { body: { email: `phrase-${crypto.randomUUID()}@example.com`, password: 'zap likes long phrases', name: 'P' } })
    expect(passphrase.status).toBe(201)
  })

  test('invalid JSON is 400', async () => {
    const response = await call(api, 'POST', '/api/v1/auth/signup', { body: '{"email":', headers: { 'content-type': 'application/json' } })
    expect(response.status).toBe(400)
  })

  test('login with the right password returns a token', async () => {
    const { email, password } = await signUp()
    const response = await call(api, 'POST', '/api/v1/auth/login', { body: { email, password } })
    expect(response.status).toBe(200)
    expect((await call(api, 'GET', '/api/v1/me', { token: response.body.token })).status).toBe(200)
  })

  test('a login password longer than signup allows is 400 without being hashed', async () => {
    const { email } = await signUp()
    const response = await call(api, 'POST', '/api/v1/auth/login', { body: { email, password: 'p'.repeat(257) } })
    expect(response.status).toBe(400)
    expect(response.body.error.message).toStartWith('password')
  })

  test('a wrong password and an unknown email get the same 401', async () => {
    const { email } = await signUp()
    const wrong = await call(api, 'POST', '/api/v1/auth/login', { body: { email, password: 'not the password' } })
    const unknown = await call(api, 'POST', '/api/v1/auth/login', { body: { email: `nobody-${crypto.randomUUID()}@example.com`, password: 'whatever123' } })
    expect(wrong.status).toBe(401)
    expect(unknown.status).toBe(401)
    expect(unknown.body).toEqual(wrong.body)
  })
})

describe('tokens', () => {
  test('no token is 401', async () => {
    const response = await call(api, 'GET', '/api/v1/me')
    expect(response.status).toBe(401)
    expect(response.body.error.code).toBe('unauthorized')
  })

  test('an expired token is 401', async () => {
    const { user } = await signUp()
    const expired = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'HS256' }).setIssuedAt(Math.floor(Date.now() / 1000) - 7200).setExpirationTime(Math.floor(Date.now() / 1000) - 3600).sign(secret)
    expect((await call(api, 'GET', '/api/v1/me', { token: expired })).status).toBe(401)
  })

  test('a token signed with another secret is 401', async () => {
    const { user } = await signUp()
    const forged = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(new TextEncoder().encode('x'.repeat(48)))
    expect((await call(api, 'GET', '/api/v1/me', { token: forged })).status).toBe(401)
  })

  test('an unsigned alg:none token is 401', async () => {
    const { user } = await signUp()
    const encode = (value: object) => Buffer.from(JSON.stringify(value)).toString('base64url')
    const none = `${encode({ alg: 'none', typ: 'JWT' })}.${encode({ sub: user.id, exp: Math.floor(Date.now() / 1000) + 3600 })}.`
    expect((await call(api, 'GET', '/api/v1/me', { token: none })).status).toBe(401)
  })

  test('a token signed with the secret but with HS512, where only HS256 is issued, is 401', async () => {
    const { user } = await signUp()
    const hs512 = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'HS512' }).setExpirationTime('1h').sign(secret)
    expect((await call(api, 'GET', '/api/v1/me', { token: hs512 })).status).toBe(401)
    const hs256 = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret)
    expect((await call(api, 'GET', '/api/v1/me', { token: hs256 })).status).toBe(200)
  })

  test('logout ends the token and every other token of the account, while a new login works', async () => {
    const { token, email, password } = await signUp()
    const second = (await call(api, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.token
    expect((await call(api, 'GET', '/api/v1/me', { token: second })).status).toBe(200)
    const logout = await call(api, 'POST', '/api/v1/auth/logout', { token })
    expect(logout.status).toBe(204)
    for (const ended of [token, second]) {
      const me = await call(api, 'GET', '/api/v1/me', { token: ended })
      expect(me.status).toBe(401)
      expect(me.body.error.message).toContain('logged out')
    }
    expect((await call(api, 'POST', '/api/v1/auth/logout', { token })).status).toBe(401)
    const fresh = (await call(api, 'POST', '/api/v1/auth/login', { body: { email, password } })).body.token
    expect((await call(api, 'GET', '/api/v1/me', { token: fresh })).status).toBe(200)
  })

  test('a token without an expiry is 401', async () => {
    const { user } = await signUp()
    const forever = await new SignJWT({ sub: user.id }).setProtectedHeader({ alg: 'HS256' }).sign(secret)
    expect((await call(api, 'GET', '/api/v1/me', { token: forever })).status).toBe(401)
  })
})

describe('tokens for no user', () => {
  const routes = [
    ['GET', '/api/v1/me'],
    ['GET', '/api/v1/zaps'],
    ['POST', '/api/v1/zaps', { name: 'n', steps: [{ type: 'log', config: { message: 'x' } }] }],
    ['GET', `/api/v1/zaps/${Bun.randomUUIDv7()}`],
    ['PATCH', `/api/v1/zaps/${Bun.randomUUIDv7()}`, { name: 'n' }],
    ['DELETE', `/api/v1/zaps/${Bun.randomUUIDv7()}`],
    ['GET', '/api/v1/runs'],
    ['GET', `/api/v1/runs/${Bun.randomUUIDv7()}`],
    ['POST', '/api/v1/runs/replay', { status: 'failed' }],
    ['POST', `/api/v1/runs/${Bun.randomUUIDv7()}/replay`, {}],
  ] as const
  const signed = (sub: string) => new SignJWT({ sub }).setProtectedHeader({ alg: 'HS256' }).setExpirationTime('1h').sign(secret)

  test('a well-signed token whose subject is not a UUID is 401 on every route', async () => {
    for (const sub of ['admin', "1' or '1'='1", 'x'.repeat(5000)]) {
      const token = await signed(sub)
      for (const [method, path, body] of routes) {
        const response = await call(api, method, path, { token, body })
        expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 })
        expect(response.body.error.code).toBe('unauthorized')
      }
    }
  })

  test('a well-signed token of a deleted user is 401 on every route', async () => {
    const { token, user } = await signUp()
    await sql`delete from users where id = ${user.id}`
    for (const [method, path, body] of routes) {
      const response = await call(api, method, path, { token, body })
      expect({ method, path, status: response.status }).toEqual({ method, path, status: 401 })
    }
  })
})

describe('self-description', () => {
  test('the OpenAPI document lists the routes', async () => {
    const response = await call(api, 'GET', '/openapi.json')
    expect(response.status).toBe(200)
    expect(Object.keys(response.body.paths)).toContain('/api/v1/zaps')
  })

  test('the catalog lists step types with their config schema', async () => {
    const response = await call(api, 'GET', '/api/v1/catalog')
    const http = response.body.steps.find((step: { type: string }) => step.type === 'http')
    expect(http.description).toBeString()
    expect(http.config.properties.url.type).toBe('string')
    expect(http.config.required).toContain('url')
  })

  test('healthz and readyz answer', async () => {
    expect((await call(api, 'GET', '/healthz')).status).toBe(200)
    expect((await call(api, 'GET', '/readyz')).status).toBe(200)
  })
})
