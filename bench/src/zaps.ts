let token: Promise<string> | undefined

/** Creates a zap for one bench user, signed up through the API on first use. */
export async function createBenchZap(apiUrl: string, name: string, steps: unknown[]) {
  token ??= signUp(apiUrl)
  const { zap } = await post(apiUrl, '/api/v1/zaps', { name, steps }, await token)
  return zap.id as string
}

async function signUp(apiUrl: string) {
  const email = `bench-${process.pid}@example.com`
  const { token } = await post(apiUrl, '/api/v1/auth/signup', { email, name: 'bench', password: 'bench-password-1234' })
  return token as string
}

async function post(apiUrl: string, path: string, body: unknown, token?: string) {
  const response = await fetch(apiUrl + path, {
    method: 'POST',
    headers: { 'content-type': 'application/json', ...(token ? { authorization: `Bearer ${token}` } : {}) },
    body: JSON.stringify(body),
  })
  if (!response.ok) throw new Error(`POST ${path} answered ${response.status}: ${await response.text()}`)
  return response.json() as Promise<any>
}

export const httpStep = (url: string) => ({ type: 'http', config: { method: 'POST', url } })
