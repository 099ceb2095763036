import type { Sql } from 'postgres'
import { newId } from '@zap/lib/ids'
import type { User } from '@zap/lib/resources'

type UserRow = User & { passwordHash: string; tokenGeneration: number }

/** Returns the new user, or null when the email is taken. */
export async function createUser(sql: Sql, input: { email: string; name: string; passwordHash: string }) {
  const [user] = await sql<User[]>`
    insert into users (id, email, name, password_hash)
    values (${newId()}, ${input.email}, ${input.name}, ${input.passwordHash})
    on conflict ((lower(email))) do nothing
    returning id, email, name, created_at as "createdAt"`
  return user ?? null
}

export async function findUserByEmail(sql: Sql, email: string) {
  const [user] = await sql<UserRow[]>`
    select id, email, name, password_hash as "passwordHash", token_generation as "tokenGeneration", created_at as "createdAt"
    from users where lower(email) = lower(${email})`
  return user ?? null
}

/** The generation a token of this user must carry to be valid, or null when the user does not exist. */
export async function findTokenGeneration(sql: Sql, id: string) {
  const [row] = await sql<{ tokenGeneration: number }[]>`select token_generation as "tokenGeneration" from users where id = ${id}`
  return row?.tokenGeneration ?? null
}

/** Ends every token issued to the user so far. */
export async function revokeTokens(sql: Sql, id: string) {
  await sql`update users set token_generation = token_generation + 1 where id = ${id}`
}

export async function findUser(sql: Sql, id: string) {
  const [user] = await sql<User[]>`select id, email, name, created_at as "createdAt" from users where id = ${id}`
  return user ?? null
}
