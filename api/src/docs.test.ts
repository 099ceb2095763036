import { afterAll, beforeAll, describe, expect, test } from 'bun:test'
import { chromium, type Browser } from 'playwright-core'
import { startService, type RunningService } from '@zap/testkit/services'

// Debian's Chromium; the docs must render from what the API serves, with every other address unreachable.
const chromiumPath = Bun.which('chromium') ?? Bun.which('chromium-browser')

let api: RunningService
let hooks: RunningService
let browser: Browser

beforeAll(async () => {
  if (!chromiumPath) throw new Error('Chromium is not installed; on Debian: apt-get install chromium')
  ;[api, hooks] = await Promise.all([startService('api'), startService('hooks')])
  browser = await chromium.launch({ executablePath: chromiumPath, args: ['--no-sandbox'] })
}, 60_000)

afterAll(async () => {
  await browser?.close()
  await Promise.all([api?.stop(), hooks?.stop()])
})

/** Opens `/docs` of `service` with every request elsewhere aborted; returns the page and what was blocked. */
async function openDocs(service: RunningService) {
  const page = await browser.newPage()
  const blocked: string[] = []
  const origin = new URL(service.url!).origin
  await page.route('**/*', (route) => {
    const url = route.request().url()
    if (new URL(url).origin === origin) return route.continue()
    blocked.push(url)
    return route.abort()
  })
  await page.goto(`${service.url}/docs`)
  return { page, blocked }
}

describe('the docs page', () => {
  test('renders the API reference offline: bundle and style come from the API, and the operations are listed', async () => {
    const { page, blocked } = await openDocs(api)
    await page.locator('[id$="-createZap"]').first().waitFor({ timeout: 20_000 })
    const text = await page.locator('#swagger-ui').innerText()
    for (const operationId of ['signUp', 'logIn', 'createZap', 'listZaps', 'listRuns', 'replayRun', 'getStatus', 'rotateAlertSecret', 'checkReadiness']) expect(text).toContain(operationId)
    expect(text).toContain('zap API')
    expect(text).toContain('/api/v1/zaps')
    expect(text).toContain('Create a zap')
    expect(blocked).toEqual([])
    const bundle = await fetch(`${api.url}/docs/swagger-ui-bundle.js`)
    expect(bundle.status).toBe(200)
    expect(bundle.headers.get('content-type')).toStartWith('text/javascript')
    expect(await page.content()).not.toMatch(/unpkg|jsdelivr|cdn\./)
    await page.close()
  }, 60_000)

  test('the webhook receiver\u2019s docs render offline too', async () => {
    const { page, blocked } = await openDocs(hooks)
    await page.locator('[id$="-receiveWebhook"]').first().waitFor({ timeout: 20_000 })
    const text = await page.locator('#swagger-ui').innerText()
    expect(text).toContain('receiveWebhook')
    expect(text).toContain('/hooks/{zapId}')
    expect(blocked).toEqual([])
    await page.close()
  }, 60_000)
})
