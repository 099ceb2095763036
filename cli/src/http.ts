import { env, zapCommand } from './env.ts'
import { CliError, envTokenRejected, notLoggedIn, sessionExpired } from './errors.ts'

type ErrorBody = { error?: { code?: string; message?: string } }

/** Who answers at a URL, and what the user can do when it does not. */
export type Service = { name: string; fix: string }

/** Sends one request; failures become a CliError that names the URL or says what to do. */
export async function send<T>(url: string, init: RequestInit, service: Service): Promise<T> {
  let response: Response
  try {
    response = await fetch(url, init)
  } catch {
    throw new CliError(`Could not reach ${service.name} at ${url}. ${service.fix}`)
  }
  const text = await response.text()
  let body: unknown = null
  try {
    body = text ? JSON.parse(text) : null
  } catch {
    throw new CliError(`${url} did not answer like ${service.name} (HTTP ${response.status}). ${service.fix}`)
  }
  if (!response.ok) throw describeFailure(response.status, body as ErrorBody, url, init)
  return body as T
}

function describeFailure(status: number, body: ErrorBody, url: string, init: RequestInit) {
  const code = body?.error?.code ?? `http_${status}`
  const message = body?.error?.message ?? `HTTP ${status}`
  const sentToken = new Headers(init.headers).get('authorization')
  // ZAP_TOKEN comes before the saved login: a refused one is the variable's fault, not the login's.
  if (code === 'unauthorized') return sentToken === null ? notLoggedIn() : env.token && sentToken === `Bearer ${env.token}` ? envTokenRejected() : sessionExpired()
  if (code === 'not_found') return new CliError(`${message}. ${listHint(url)}`)
  if (code === 'invalid_input' || code === 'invalid_body') return new CliError(`Invalid input: ${message}`)
  if (status >= 500) return new CliError(`${url} failed (${status} ${code}): ${message}. Try again; if it persists, check the service logs.`)
  return new CliError(message)
}

function listHint(url: string) {
  if (url.includes('/runs')) return `Check the id with: ${zapCommand} runs list`
  return `Check the id with: ${zapCommand} zaps list`
}
