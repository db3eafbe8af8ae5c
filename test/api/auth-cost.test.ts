import type { Client } from '@temporalio/client'
import { Hono } from 'hono'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb, type Db } from '../../activities/db/db'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { requireAuth } from '../../api/auth/middleware'
import { createApiToken, revokeApiToken } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { onError } from '../../api/errors'
import { authRoutes } from '../../api/routes/auth'
import { fromAddress, signInThroughRoutes } from '../helpers/api'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { userId } from '../helpers/fixtures'
import { connectTestClient } from '../helpers/temporal'

/**
 * Issue 12: authentication costs at most one SQL statement per request (session, user and roles
 * in one query, the idle-time touch and the deletion of an ended session in the same statement),
 * and revocation still takes effect on the very next request since nothing is cached.
 */
let tdb: TestDatabase
let counted: Db
let temporal: Client
const statements: string[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  counted = createDb(tdb.url, { max: 3, onQuery: (text) => statements.push(text) })
  temporal = await connectTestClient()
})
afterAll(async () => {
  await counted?.destroy()
  await temporal?.connection.close()
  await tdb?.drop()
})

/** The SQL statements one request sends. */
async function cost(request: () => Response | Promise<Response>) {
  statements.length = 0
  const response = await request()
  return { status: response.status, statements: [...statements] }
}

/** The sign-in routes and a protected route that sends no SQL of its own, on a movable clock. */
function smallApp() {
  const clock = { t: Date.now() }
  const now = () => new Date(clock.t)
  const app = new Hono<AppEnv>()
    .route('/api/auth', authRoutes({ db: counted, now, secureCookies: false }))
    .use('/api/private/*', requireAuth({ db: counted, now }))
    .get('/api/private/whoami', (c) => c.json(c.get('user')))
    .post('/api/private/echo', (c) => c.json({ ok: true }))
  app.onError(onError(createLogger('silent', false)))
  return { app, clock }
}

describe('authentication costs one SQL statement per request', () => {
  it('for a session, a write with its CSRF token, the idle-time touch, and a bearer token', async () => {
    const { app, clock } = smallApp()
    const s = await signInThroughRoutes(app, 'superviseur.cercle.kati', DEMO_PASSWORD)
    const read = await cost(() =>
      app.request('/api/private/whoami', { headers: { cookie: s.cookie } }),
    )
    expect(read).toEqual({ status: 200, statements: [expect.any(String)] })
    const write = await cost(() =>
      app.request('/api/private/echo', {
        method: 'POST',
        headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken },
      }),
    )
    expect(write.statements).toHaveLength(1)
    // Two minutes later the session's last use is written: in the same statement.
    clock.t += 2 * 60_000
    const touched = await cost(() =>
      app.request('/api/private/whoami', { headers: { cookie: s.cookie } }),
    )
    expect(touched).toEqual({ status: 200, statements: [expect.any(String)] })

    const { token } = await createApiToken(tdb.db, {
      name: 'registre',
      userId: await userId(tdb.db, 'agent.kati.1'),
    })
    const bearer = await cost(() =>
      app.request('/api/private/whoami', { headers: { authorization: `Bearer ${token}` } }),
    )
    expect(bearer).toEqual({ status: 200, statements: [expect.any(String)] })
  })

  it('and GET /api/auth/me through the whole application costs one statement in all', async () => {
    const app = createApp({
      db: counted,
      temporal,
      log: createLogger('silent', false),
      codec: testCodec,
      taskQueue: 'unused',
    })
    const s = await signInThroughRoutes(app, 'agent.kati.2', DEMO_PASSWORD)
    const me = await cost(() =>
      app.request('/api/auth/me', { headers: { cookie: s.cookie } }, fromAddress('192.0.2.40')),
    )
    expect(me).toEqual({ status: 200, statements: [expect.any(String)] })
  })
})

describe('revocation takes effect on the next request', () => {
  const whoami = (app: ReturnType<typeof smallApp>['app'], cookie: string) =>
    app.request('/api/private/whoami', { headers: { cookie } })

  it('after sign-out', async () => {
    const { app } = smallApp()
    const s = await signInThroughRoutes(app, 'agent.kayes.1', DEMO_PASSWORD)
    expect((await whoami(app, s.cookie)).status).toBe(200)
    await app.request(
      '/api/auth/sign-out',
      { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } },
      fromAddress('192.0.2.10'),
    )
    expect((await whoami(app, s.cookie)).status).toBe(401)
  })

  it('after a deactivation, in one statement that also ends the session', async () => {
    const { app } = smallApp()
    const username = 'agent.kayes.2'
    const s = await signInThroughRoutes(app, username, DEMO_PASSWORD)
    expect((await whoami(app, s.cookie)).status).toBe(200)
    await sql`update users set active = false where username = ${username}`.execute(tdb.db)
    const refused = await cost(() => whoami(app, s.cookie))
    expect(refused).toEqual({ status: 401, statements: [expect.any(String)] })
    const left = await sql<{ n: number }>`
      select count(*)::int as n from sessions s join users u on u.id = s.user_id
      where u.username = ${username}`.execute(tdb.db)
    expect(left.rows[0]!.n).toBe(0)
  })

  it('after a password change made in another session, and a revoked token', async () => {
    const { app } = smallApp()
    const username = 'agent.sikasso.1'
    const first = await signInThroughRoutes(app, username, DEMO_PASSWORD)
    const second = await signInThroughRoutes(app, username, DEMO_PASSWORD)
    expect((await whoami(app, first.cookie)).status).toBe(200)
    const changed = await app.request(
      '/api/auth/password',
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: second.cookie,
          'x-csrf-token': second.csrfToken,
        },
        body: JSON.stringify({ currentPassword: DEMO_PASSWORD, newPassword: 'Nouveau-mot-2026' }),
      },
      fromAddress('192.0.2.10'),
    )
    expect(changed.status).toBe(204)
    expect((await whoami(app, first.cookie)).status).toBe(401)
    expect((await whoami(app, second.cookie)).status).toBe(200)

    const { id, token } = await createApiToken(tdb.db, {
      name: 'partenaire',
      userId: await userId(tdb.db, username),
    })
    const bearer = () =>
      app.request('/api/private/whoami', { headers: { authorization: `Bearer ${token}` } })
    expect((await bearer()).status).toBe(200)
    await revokeApiToken(tdb.db, id)
    expect((await bearer()).status).toBe(401)
  })
})
