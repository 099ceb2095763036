import type { Sql } from 'postgres'
import { newId } from '@zap/lib/ids'
import type { User } from '@zap/lib/resources'

type UserRow = User & { passwordHash: string }

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
    select id, email, name, password_hash as "passwordHash", created_at as "createdAt"
    from users where lower(email) = lower(${email})`
  return user ?? null
}

export async function userExists(sql: Sql, id: string) {
  const [row] = await sql<{ exists: boolean }[]>`select exists (select 1 from users where id = ${id})`
  return row!.exists
}

export async function findUser(sql: Sql, id: string) {
  const [user] = await sql<User[]>`select id, email, name, created_at as "createdAt" from users where id = ${id}`
  return user ?? null
}
