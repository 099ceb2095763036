import type { Command } from 'commander'
import { readLogin, savedApiUrl } from './config.ts'
import { defaultApiUrl, env } from './env.ts'
import { notLoggedIn } from './errors.ts'
import { send, type Service } from './http.ts'

const zapApi: Service = { name: 'the zap API', fix: 'Start it with bun run dev in the zap checkout, or point --api or ZAP_API_URL at a running one.' }

export type Api = ReturnType<typeof connectApi>

/** A client for the logged-in user: ZAP_TOKEN, else the saved login for the API in use. */
export function apiFor(command: Command) {
  const apiUrl = resolveApiUrl(command)
  return connectApi({ api: apiUrl, token: findToken(apiUrl) })
}

/** `--api`, then ZAP_API_URL, then the server of the saved login, then localhost. */
export function resolveApiUrl(command: Command) {
  const flag: string | undefined = command.optsWithGlobals().api
  return (flag ?? env.apiUrl ?? savedApiUrl() ?? defaultApiUrl).replace(/\/+$/, '')
}

export function connectApi({ api: apiUrl, token }: { api: string; token?: string }) {
  const request = async <T>(method: string, path: string, body?: unknown) => {
    const headers: Record<string, string> = {}
    if (token) headers.authorization = `Bearer ${token}`
    if (body !== undefined) headers['content-type'] = 'application/json'
    const init = { method, headers, body: body === undefined ? undefined : JSON.stringify(body) }
    return send<T>(`${apiUrl}/api/v1${path}`, init, zapApi)
  }
  return {
    apiUrl,
    /** Fails with what to do when nothing answers, before anyone is asked a question in vain. */
    requireReady: () => send<unknown>(`${apiUrl}/readyz`, { method: 'GET' }, zapApi),
    get: <T>(path: string) => request<T>('GET', path),
    post: <T>(path: string, body: unknown = {}) => request<T>('POST', path, body),
    patch: <T>(path: string, body: unknown) => request<T>('PATCH', path, body),
    delete: (path: string) => request<null>('DELETE', path),
  }
}

/**
 * Asks the API of the saved login to end its token, so a copy of the token stops working too. Says why
 * when it could not; a token the API already refuses has ended.
 */
export async function endSavedLogin() {
  const login = readLogin()
  if (!login) return ''
  const response = await fetch(`${login.apiUrl}/api/v1/auth/logout`, { method: 'POST', headers: { authorization: `Bearer ${login.token}` } }).catch(() => null)
  if (response && (response.ok || response.status === 401)) return ''
  const why = response ? `HTTP ${response.status}` : 'not reachable'
  return `\nNote: the API at ${login.apiUrl} could not end the token (${why}); it stays valid until it expires.`
}

function findToken(apiUrl: string) {
  if (env.token) return env.token
  const login = readLogin()
  if (login && login.apiUrl === apiUrl) return login.token
  throw notLoggedIn()
}
