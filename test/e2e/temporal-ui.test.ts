import { randomUUID } from 'node:crypto'
import { mkdtemp, rm } from 'node:fs/promises'
import { tmpdir } from 'node:os'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import { chromium, type Browser, type BrowserContext } from 'playwright-core'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { freePort } from '../../activities/infra/ports'
import { encryptedDataConverter } from '../../activities/infra/temporal-client'
import { startDevServer, type DevServer } from '../../activities/infra/temporal-server'
import { createApp } from '../../api/app'
import { serveApi, type ApiServer } from '../../api/server'
import { signInThroughRoutes } from '../helpers/api'
import { CHROMIUM, shootOnFailure, takeCspViolations, watchPage } from '../helpers/browser'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'

/**
 * The Temporal Web UI of the embedded default, in a real browser, reading a case's history
 * through our codec endpoint as docs/temporal-operators.md tells an operator to: signed in (the
 * session cookie in the browser), "include cross-origin credentials" ticked. The narrative shows
 * in clear for the operator, never without the session.
 */
const CANARY = 'Récit sensible — canary-ui-51c2'
const log = createLogger('silent', false)
let tdb: TestDatabase
let dir: string
let temporal: DevServer
let client: Client
let api: ApiServer
let browser: Browser
let workflowId: string
let runId: string

beforeAll(async () => {
  const binary = inject('temporalBinary')
  if (!binary) throw new Error('the test run found no temporal binary')
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  dir = await mkdtemp(path.join(tmpdir(), 'rsu-ui-'))
  const apiPort = await freePort()
  const uiPort = await freePort()
  temporal = await startDevServer({
    binary,
    dir,
    host: '127.0.0.1',
    port: 0,
    uiPort,
    namespace: 'default',
    log,
    uiCodecEndpoint: `http://127.0.0.1:${apiPort}/api/temporal-codec`,
  })
  client = new Client({
    connection: await Connection.connect({ address: temporal.address }),
    namespace: 'default',
    dataConverter: encryptedDataConverter(testCodec),
  })
  api = await serveApi(
    createApp({
      db: tdb.db,
      temporal: client,
      log,
      codec: testCodec,
      taskQueue: 'unused',
      temporalUiOrigins: [temporal.uiUrl!],
    }),
    '127.0.0.1',
    apiPort,
  )
  workflowId = `case-ui-${randomUUID()}`
  // Nobody polls this queue: the started event alone holds the encrypted input.
  const handle = await client.workflow.start('grievance', {
    taskQueue: `nobody-${randomUUID()}`,
    workflowId,
    args: [{ narrative: CANARY }],
  })
  runId = handle.firstExecutionRunId
  browser = await chromium.launch({
    executablePath: CHROMIUM,
    headless: true,
    args: ['--no-sandbox'],
  })
}, 120_000)
afterAll(async () => {
  await browser?.close()
  await api?.close()
  await client?.connection.close()
  await temporal?.stop()
  await tdb?.drop()
  if (dir) await rm(dir, { recursive: true, force: true })
})
afterEach(shootOnFailure)
afterEach(() => expect(takeCspViolations()).toEqual([]))

/** A browser whose Web UI is set as the guide says: our endpoint, credentials included. */
async function operatorBrowser(cookie?: string): Promise<BrowserContext> {
  const context = await browser.newContext({ viewport: { width: 1280, height: 900 } })
  const endpoint = `${api.url}/api/temporal-codec`
  // The Web UI's "Codec Server" dialog keeps these in the browser's localStorage.
  await context.addInitScript((value) => {
    // Runs in the page (no DOM types here): the page's localStorage.
    const storage = Reflect.get(globalThis, 'localStorage') as {
      setItem(key: string, value: string): void
    }
    storage.setItem('endpoint', JSON.stringify(value))
    storage.setItem('overrideRemoteCodecConfiguration', 'true')
    storage.setItem('includeCredentials', 'true')
  }, endpoint)
  if (cookie) {
    const [name, value] = cookie.split('=')
    await context.addCookies([
      {
        name: name!,
        value: value!,
        domain: '127.0.0.1',
        path: '/api',
        httpOnly: true,
        sameSite: 'Lax',
      },
    ])
  }
  return context
}

const historyPage = () =>
  `${temporal.uiUrl}/namespaces/default/workflows/${encodeURIComponent(workflowId)}/${runId}/history`

describe('the Temporal Web UI with our codec endpoint', () => {
  it('shows a signed-in operator the case input in clear, and the decode is audited', async () => {
    const app = createApp({ db: tdb.db, temporal: client, log, codec: testCodec, taskQueue: 'x' })
    const s = await signInThroughRoutes(app, 'exploitant', DEMO_PASSWORD)
    const context = await operatorBrowser(s.cookie)
    const page = watchPage(await context.newPage())
    await page.goto(historyPage())
    await expect
      .poll(async () => (await page.content()).includes('canary-ui-51c2'), { timeout: 30_000 })
      .toBe(true)
    const rows = await tdb.db
      .selectFrom('codecAudit')
      .innerJoin('users', 'users.id', 'codecAudit.userId')
      .select(['codecAudit.outcome', 'codecAudit.via', 'users.username'])
      .execute()
    expect(rows).toContainEqual({ outcome: 'ok', via: 'session', username: 'exploitant' })
    await context.close()
  })

  it('shows only ciphertext to a browser without an operator session', async () => {
    const context = await operatorBrowser()
    const page = watchPage(await context.newPage())
    const refused = page.waitForResponse((r) => r.url().endsWith('/api/temporal-codec/decode'))
    await page.goto(historyPage())
    expect((await refused).status()).toBe(401)
    // The page has rendered the history it could not decode.
    await page.getByText(workflowId).first().waitFor()
    expect(await page.content()).not.toContain('canary-ui-51c2')
    await context.close()
  })
})
