import { Elysia } from 'elysia'
import { jwt } from '@elysiajs/jwt'
import type { Sql } from '@zap/sql/db'
import { createUser, findTokenGeneration, findUser, findUserByEmail, revokeTokens } from '@zap/sql/users'
import { createRateLimiter, createSlowdown, type RateLimit, type RateLimiter, type RateOutcome, type Slowdown } from '@zap/sql/rate-limits'
import { badRequest, conflict, HttpError, tooManyRequests, unauthorized } from '@zap/lib/errors'
import { isUuid } from '@zap/lib/ids'
import { dictionary } from '@zxcvbn-ts/language-common'
import ipaddr from 'ipaddr.js'
import * as v from 'valibot'
import { loginBody, signupBody, user } from '@zap/lib/resources'
import { errorResponses } from '@zap/lib/openapi'

export type AuthOptions = { secret: string; ttlSeconds: number }
export type AuthRateLimits = {
  loginPerIp: RateLimit
  loginPerAccount: RateLimit
  loginSlowdownPerAccountAddress: RateLimit
  signupPerIp: RateLimit
  signupPerAccount: RateLimit
}

const tokens = (options: AuthOptions) =>
  jwt({ name: 'tokens', secret: options.secret, alg: 'HS256', exp: `${options.ttlSeconds}s` })

/**
 * Resolves the bearer token to the `userId` of an existing user; any route after `.use(authenticated(...))`
 * requires it. It runs before the body, query and params are validated, so strangers get 401 and no validation work.
 */
export const authenticated = (sql: Sql, options: AuthOptions) =>
  new Elysia()
    .use(tokens(options))
    .derive({ as: 'scoped' }, async ({ headers, tokens }) => {
      const token = headers.authorization?.match(/^Bearer\s+(\S+)$/i)?.[1]
      if (!token) throw unauthorized('Missing bearer token. Log in and send Authorization: Bearer <token>.')
      // Only HS256 is issued, so no other algorithm is accepted, however well signed.
      const payload = await tokens.verify(token, { algorithms: ['HS256'] })
      if (!payload || typeof payload.sub !== 'string' || typeof payload.exp !== 'number' || !isUuid(payload.sub)) throw unauthorized('Invalid or expired token. Log in again.')
      const generation = await findTokenGeneration(sql, payload.sub)
      if (generation === null) throw unauthorized('This account no longer exists')
      // Tokens from before logout existed carry no generation: they belong to the first.
      if ((payload.gen ?? 0) !== generation) throw unauthorized('This token was logged out. Log in again.')
      return { userId: payload.sub }
    })

const token = v.pipe(v.string(), v.description('A JWT for Authorization: Bearer <token>'))

const invalidLogin = () => new HttpError(401, 'invalid_credentials', 'Wrong email or password')

export const authRoutes = (sql: Sql, options: AuthOptions, limits: AuthRateLimits) => {
  const login = attemptLimits(
    createRateLimiter(sql, 'login-ip', limits.loginPerIp, { sweep: true }),
    createRateLimiter(sql, 'login-account', limits.loginPerAccount),
    createSlowdown(sql, 'login-account-address', limits.loginSlowdownPerAccountAddress),
  )
  const signup = attemptLimits(createRateLimiter(sql, 'signup-ip', limits.signupPerIp), createRateLimiter(sql, 'signup-account', limits.signupPerAccount))
  return new Elysia({ prefix: '/api/v1' })
    .use(tokens(options))
    .post(
      '/auth/signup',
      async ({ body, tokens, set, server, request }) => {
        await signup.attempt(server?.requestIP(request)?.address, body.email)
        if (isCommonPassword(body.password)) throw badRequest('password is one of the most common passwords; choose another', [{ path: 'password', message: 'Too common' }])
        const passwordHash = await Bun.password.hash(body.password, passwordHashing)
        const user = await createUser(sql, { email: body.email, name: body.name, passwordHash })
        if (!user) throw conflict('email_taken', 'An account with this email already exists. Log in instead.')
        set.status = 201
        return { user, token: await tokens.sign({ sub: user.id, gen: 0 }) }
      },
      {
        parse: 'json',
        body: signupBody,
        response: { 201: v.pipe(v.object({ user, token }), v.description('The new account and a token for it')), ...errorResponses(400, 409, 413, 415, 429) },
        detail: { operationId: 'signUp', summary: 'Create an account', tags: ['auth'], security: [] },
      },
    )
    .post(
      '/auth/login',
      async ({ body, tokens, server, request }) => {
        await login.attempt(server?.requestIP(request)?.address, body.email)
        const user = await findUserByEmail(sql, body.email)
        const valid = user ? await Bun.password.verify(body.password, user.passwordHash) : await spendHashTime(body.password)
        if (!user || !valid) throw invalidLogin()
        await login.succeeded(server?.requestIP(request)?.address, body.email)
        return { token: await tokens.sign({ sub: user.id, gen: user.tokenGeneration }) }
      },
      {
        parse: 'json',
        body: loginBody,
        response: { 200: v.pipe(v.object({ token }), v.description('A bearer token')), ...errorResponses(400, 401, 413, 415, 429) },
        detail: { operationId: 'logIn', summary: 'Log in and receive a token', tags: ['auth'], security: [] },
      },
    )
    .use(authenticated(sql, options))
    .post(
      '/auth/logout',
      async ({ userId, set }) => {
        await revokeTokens(sql, userId)
        set.status = 204
      },
      {
        response: { 204: v.pipe(v.undefined(), v.description('Every token of the account, this one included, no longer works')), ...errorResponses(401) },
        detail: { operationId: 'logOut', summary: 'Log out everywhere: end every token of the account', tags: ['auth'], security: [{ bearer: [] }] },
      },
    )
    .get(
      '/me',
      async ({ userId }) => {
        const user = await findUser(sql, userId)
        if (!user) throw unauthorized('This account no longer exists')
        return { user }
      },
      {
        response: { 200: v.pipe(v.object({ user }), v.description('The account the token belongs to')), ...errorResponses(401) },
        detail: { operationId: 'getCurrentUser', summary: 'The current user', tags: ['auth'], security: [{ bearer: [] }] },
      },
    )
}

/**
 * Counts every attempt, before any password is hashed, per client address (an IPv6 /64 being one
 * address) and per account (the email, hashed to fit the key); either over its limit is 429 with
 * Retry-After. For login, attempts at one account from one address are slowed down past a few, so a
 * guesser elsewhere only slows itself, while the per-account limit stays a ceiling on all guessers
 * together. A successful login clears its account's counts.
 */
function attemptLimits(perAddress: RateLimiter, perAccount: RateLimiter, perAccountAddress?: Slowdown) {
  const accountKey = (email: string) => new Bun.CryptoHasher('sha256').update(email.toLowerCase()).digest('hex')
  const pairKey = (ip: string | undefined, email: string) => `${accountKey(email)}:${addressGroup(ip)}`
  return {
    async attempt(ip: string | undefined, email: string) {
      const outcomes: RateOutcome[] = await Promise.all([
        perAddress.consume(addressGroup(ip)),
        perAccount.consume(accountKey(email)),
        ...(perAccountAddress ? [perAccountAddress.consume(pairKey(ip, email))] : []),
      ])
      const waits = outcomes.flatMap((outcome) => (outcome.kind === 'limited' ? [outcome.retryAfterSeconds] : []))
      if (waits.length > 0) throw tooManyRequests(Math.max(...waits))
    },
    succeeded: async (ip: string | undefined, email: string) => {
      await Promise.all([perAccount.reset(accountKey(email)), perAccountAddress?.reset(pairKey(ip, email))])
    },
  }
}

/** The unit a client is counted by: an IPv4 address (also when mapped into IPv6), or an IPv6 /64, which one subscriber usually holds whole. */
export function addressGroup(ip: string | undefined) {
  if (!ip || !ipaddr.isValid(ip)) return 'unknown'
  const address = ipaddr.process(ip)
  if (address.kind() === 'ipv4') return address.toString()
  return `${ipaddr.IPv6.networkAddressFromCIDR(`${address.toNormalizedString()}/64`).toString()}/64`
}

// zxcvbn's list of the 49,000 most common passwords, in lower case: the first ones guessers try.
const commonPasswords = new Set(dictionary['passwords-common'])

const isCommonPassword = (password: string) => commonPasswords.has(password.trim().toLowerCase())

// OWASP's argon2id settings of 19 MiB and 2 passes, equal in strength to its other choices: Bun's default of
// 64 MiB took the API's resident memory from 70 MB to 133 MB for each hash. Existing hashes carry their own settings.
const passwordHashing = { algorithm: 'argon2id', memoryCost: 19 * 1024, timeCost: 2 } as const

const dummyHash = Bun.password.hash('not-a-real-password', passwordHashing)

// An unknown email takes as long as a wrong password, so responses do not reveal which emails exist.
async function spendHashTime(password: string) {
  await Bun.password.verify(password, await dummyHash)
  return false
}
