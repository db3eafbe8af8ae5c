import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { fromAddress, signInThroughRoutes, type BrowserSession } from '../helpers/api'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { userId } from '../helpers/fixtures'
import { connectTestClient } from '../helpers/temporal'

let tdb: TestDatabase
let temporal: Client
let app: ReturnType<typeof createApp>
let session: BrowserSession
let bearer: string

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  temporal = await connectTestClient()
  app = createApp({
    db: tdb.db,
    temporal,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: 'unused',
  })
  session = await signInThroughRoutes(app, 'agent.kati.1', DEMO_PASSWORD)
  bearer = (
    await createApiToken(tdb.db, {
      name: 'registre',
      userId: await userId(tdb.db, 'agent.kati.2'),
    })
  ).token
})
afterAll(async () => {
  await temporal?.connection.close()
  await tdb?.drop()
})

const get = (path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers }, fromAddress('192.0.2.30'))
/** The directives of a Content-Security-Policy header, by name. */
const directives = (res: Response) =>
  Object.fromEntries(
    (res.headers.get('content-security-policy') ?? '')
      .split(';')
      .map((d) => d.trim().split(/\s+/))
      .filter((d) => d[0])
      .map(([name, ...values]) => [name!, values]),
  )

describe('Cache-Control: no-store on every authenticated answer', () => {
  it.each([
    '/api/auth/me',
    '/api/cases',
    `/api/tasks?filter=${encodeURIComponent('{"mine":true}')}`,
    '/api/households',
    '/api/users',
    '/api/cases/G-NOPE',
  ])('%s, for a session and for a bearer token', async (path) => {
    const viaSession = await get(path, { cookie: session.cookie })
    expect(viaSession.status).toBeLessThan(500)
    expect(viaSession.headers.get('cache-control')).toBe('no-store')
    const viaToken = await get(path, { authorization: `Bearer ${bearer}` })
    expect(viaToken.headers.get('cache-control')).toBe('no-store')
  })

  it('leaves public reference data cacheable for anonymous phones', async () => {
    const res = await get('/api/public/options')
    expect(res.headers.get('cache-control')).toMatch(/^public, max-age=\d+$/)
  })
})

describe('a strict Content-Security-Policy: scripts from this origin only, never inline', () => {
  it.each([
    ['the console', '/admin/'],
    ['the public home page', '/'],
    ['the submit page', '/plainte/'],
    ['the follow page', '/suivi/'],
  ])('%s', async (_, path) => {
    const res = await get(path)
    const csp = directives(res)
    expect(csp['script-src']).toEqual(["'self'"])
    expect(csp['default-src']).toEqual(["'self'"])
    expect(csp['object-src']).toEqual(["'none'"])
    expect(csp['frame-ancestors']).toEqual(["'none'"])
    expect(csp['base-uri']).toEqual(["'none'"])
  })

  it('/api/docs, which runs no script at all, and every API answer', async () => {
    for (const path of ['/api/docs', '/api/openapi.json', '/api/health/live']) {
      const csp = directives(await get(path))
      expect(csp['default-src'], path).toEqual(["'none'"])
      expect(csp['script-src'], path).toBeUndefined()
      expect(csp['frame-ancestors'], path).toEqual(["'none'"])
    }
  })
})
