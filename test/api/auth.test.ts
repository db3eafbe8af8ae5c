import { createHash } from 'node:crypto'
import { OpenAPIHono } from '@hono/zod-openapi'
import { Hono } from 'hono'
import * as OTPAuth from 'otpauth'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { requireAuth } from '../../api/auth/middleware'
import { createApiToken, revokeApiToken } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { onError } from '../../api/errors'
import { authRoutes } from '../../api/routes/auth'
import type { RoleCode } from '../../workflows/messages'
import { testCipher } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'

const log = createLogger('silent', false)
let tdb: TestDatabase
const pool = new Map<RoleCode, string[]>()

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  const rows = await tdb.db
    .selectFrom('users')
    .innerJoin('userRoles', 'userRoles.userId', 'users.id')
    .select(['users.username', 'userRoles.roleCode'])
    .orderBy('users.username')
    .execute()
  for (const r of rows) pool.set(r.roleCode, [...(pool.get(r.roleCode) ?? []), r.username])
})
afterAll(() => tdb?.drop())

/** A demo user of that role no other test has used: tests never share lockout or TOTP state. */
function take(role: RoleCode): string {
  const username = pool.get(role)?.shift()
  if (!username) throw new Error(`no demo ${role} left`)
  return username
}

/** A tiny application: the sign-in routes and a protected area, on a clock tests can move. */
function makeApp({ secureCookies = false } = {}) {
  const clock = { t: Date.now() }
  const now = () => new Date(clock.t)
  const app = new Hono<AppEnv>()
    .route('/api/auth', authRoutes({ db: tdb.db, now, secureCookies }))
    .use('/api/private/*', requireAuth({ db: tdb.db, now }))
    .get('/api/private/whoami', (c) => c.json(c.get('user')))
    .post('/api/private/echo', async (c) => c.json({ echo: await c.req.json() }))
  app.onError(onError(log))
  return { app, clock }
}
type App = ReturnType<typeof makeApp>['app']

/** Node server bindings as `@hono/node-server` passes them, so getConnInfo sees an address. */
const from = (address: string) => ({ incoming: { socket: { remoteAddress: address } } })

interface SignedIn {
  status: number
  body: Record<string, unknown> & { csrfToken?: string; totpUri?: string; totp?: string }
  cookie: string
  setCookie: string
  headers: Headers
}

async function signIn(
  app: App,
  username: string,
  password = DEMO_PASSWORD,
  address = '192.0.2.1',
): Promise<SignedIn> {
  const res = await app.request(
    '/api/auth/sign-in',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    },
    from(address),
  )
  const setCookie = res.headers.get('set-cookie') ?? ''
  return {
    status: res.status,
    body: (await res.json()) as SignedIn['body'],
    cookie: setCookie.split(';')[0] ?? '',
    setCookie,
    headers: res.headers,
  }
}

const get = (app: App, path: string, headers: Record<string, string> = {}) =>
  app.request(path, { headers }, from('192.0.2.1'))
const post = (app: App, path: string, body: unknown, headers: Record<string, string> = {}) =>
  app.request(
    path,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', ...headers },
      body: body === undefined ? undefined : JSON.stringify(body),
    },
    from('192.0.2.1'),
  )
const session = (s: SignedIn) => ({ cookie: s.cookie, 'x-csrf-token': s.body.csrfToken! })
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

describe('sign-in', () => {
  it('opens a session in an httpOnly, SameSite=Lax cookie whose token is not what the database holds', async () => {
    const { app } = makeApp()
    const username = take('case_worker')
    const s = await signIn(app, username)
    expect(s.status).toBe(200)
    expect(s.body).toMatchObject({
      user: { username, roles: [{ role: 'case_worker' }], clearance: false, locale: 'fr' },
      totp: 'not_required',
    })
    expect(s.body.csrfToken).toEqual(expect.any(String))
    expect(s.setCookie).toMatch(/^rsu_session=[A-Za-z0-9_-]{43};/)
    expect(s.setCookie).toMatch(/; HttpOnly/)
    expect(s.setCookie).toMatch(/; SameSite=Lax/)
    expect(s.setCookie).not.toMatch(/; Secure/)
    expect(s.headers.get('cache-control')).toBe('no-store')

    const token = s.cookie.slice('rsu_session='.length)
    const rows = await tdb.db.selectFrom('sessions').selectAll().execute()
    expect(rows.some((r) => r.id === token || r.csrfToken === token)).toBe(false)
    expect(rows.map((r) => r.id)).toContain(createHash('sha256').update(token).digest('hex'))

    const me = await get(app, '/api/private/whoami', { cookie: s.cookie })
    expect(me.status).toBe(200)
    expect(await me.json()).toMatchObject({ username, via: 'session' })
    const auth = await get(app, '/api/auth/me', { cookie: s.cookie })
    expect(await auth.json()).toMatchObject({ username, via: 'session' })
  })

  it('marks the cookie Secure when served over HTTPS', async () => {
    const { app } = makeApp({ secureCookies: true })
    const s = await signIn(app, take('case_worker'))
    expect(s.setCookie).toMatch(/; Secure/)
  })

  it('answers a wrong username, a wrong password and an inactive account identically', async () => {
    const { app } = makeApp()
    const real = take('case_worker')
    const inactive = take('case_worker')
    await tdb.db
      .updateTable('users')
      .set({ active: false })
      .where('username', '=', inactive)
      .execute()
    const wrongPassword = await signIn(app, real, 'not-the-password')
    const unknownUser = await signIn(app, 'nobody.here', 'not-the-password')
    const inactiveUser = await signIn(app, inactive, DEMO_PASSWORD)
    for (const answer of [wrongPassword, unknownUser, inactiveUser]) {
      expect(answer.status).toBe(401)
      expect(answer.setCookie).toBe('')
      expect(answer.body).toEqual({
        error: { code: 'INVALID_CREDENTIALS', message: 'Wrong username or password' },
      })
    }
  })

  it('refuses requests without a session, with an unknown cookie, or a malformed body', async () => {
    const { app } = makeApp()
    expect(await code(await get(app, '/api/private/whoami'))).toBe('UNAUTHENTICATED')
    const forged = await get(app, '/api/private/whoami', { cookie: 'rsu_session=forged' })
    expect(forged.status).toBe(401)
    // Authentication comes before body validation on the signed-in routes.
    for (const path of ['/api/auth/totp', '/api/auth/password', '/api/auth/sign-out']) {
      expect(await code(await post(app, path, { nonsense: true }))).toBe('UNAUTHENTICATED')
    }
    const bad = await post(app, '/api/auth/sign-in', { username: 'x' })
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ path: 'password' }] },
    })
  })
})

describe('throttling by client address', () => {
  it('answers the 21st attempt within 5 minutes from one address with 429, whatever the account', async () => {
    const { app, clock } = makeApp()
    for (let i = 1; i <= 20; i++) {
      // Counted before the body is read: even malformed attempts (no account involved).
      expect((await signIn(app, '', 'wrong-password', '198.51.100.7')).status).toBe(400)
    }
    const blocked = await signIn(app, take('case_worker'), DEMO_PASSWORD, '198.51.100.7')
    expect(blocked.status).toBe(429)
    expect(blocked.body).toMatchObject({ error: { code: 'TOO_MANY_REQUESTS' } })
    const retryAfter = Number(blocked.headers.get('retry-after'))
    expect(retryAfter).toBeGreaterThan(0)
    expect(retryAfter).toBeLessThanOrEqual(300)

    // Another address is not slowed down.
    expect((await signIn(app, take('case_worker'), DEMO_PASSWORD, '198.51.100.8')).status).toBe(200)
    // Once the window has passed, the address may try again.
    clock.t += 5 * 60_000 + 1_000
    expect((await signIn(app, take('case_worker'), DEMO_PASSWORD, '198.51.100.7')).status).toBe(200)
  })
})

describe('failed sign-ins slow the guesser down, never lock the owner out', () => {
  it('holds back one address on one account after 5 failures, with doubling waits, even for the right password', async () => {
    const { app, clock } = makeApp()
    const username = take('case_worker')
    const guesser = '203.0.113.7'
    for (let i = 1; i <= 5; i++) {
      expect((await signIn(app, username, `wrong-${i}`, guesser)).status).toBe(401)
    }
    const held = await signIn(app, username, DEMO_PASSWORD, guesser)
    expect(held.status).toBe(423)
    expect(held.body).toMatchObject({ error: { code: 'ACCOUNT_LOCKED' } })
    expect(held.setCookie).toBe('')
    expect(Number(held.headers.get('retry-after'))).toBe(30)
    // The username in another case is the same account.
    expect((await signIn(app, username.toUpperCase(), 'x', guesser)).status).toBe(423)

    // The owner, from another address, signs in all along.
    const owner = await signIn(app, username, DEMO_PASSWORD, '198.51.100.20')
    expect(owner.status).toBe(200)

    // Each further failure doubles the wait: 30 s, 1 min, 2 min…
    clock.t += 30_000
    expect((await signIn(app, username, 'wrong-6', guesser)).status).toBe(401)
    const longer = await signIn(app, username, DEMO_PASSWORD, guesser)
    expect(Number(longer.headers.get('retry-after'))).toBe(60)
    clock.t += 60_000
    expect((await signIn(app, username, DEMO_PASSWORD, guesser)).status).toBe(200)
  })

  it('cannot be used to lock an account: failures from five addresses leave it open to a sixth', async () => {
    const { app } = makeApp()
    const username = take('case_worker')
    for (let i = 1; i <= 5; i++) {
      expect((await signIn(app, username, `wrong-${i}`, `203.0.113.${i}`)).status).toBe(401)
    }
    expect((await signIn(app, username, DEMO_PASSWORD, '203.0.113.99')).status).toBe(200)
  })

  it('holds back an unknown username alike, so a wait does not reveal which accounts exist', async () => {
    const { app } = makeApp()
    for (let i = 1; i <= 5; i++) await signIn(app, 'ghost.account', `wrong-${i}`)
    const answer = await signIn(app, 'ghost.account', 'anything')
    expect(answer.status).toBe(423)
    expect(answer.body).toMatchObject({ error: { code: 'ACCOUNT_LOCKED' } })
  })

  it('counts only consecutive failures: a success resets the count', async () => {
    const { app } = makeApp()
    const username = take('case_worker')
    for (let round = 0; round < 2; round++) {
      for (let i = 1; i <= 4; i++) expect((await signIn(app, username, 'wrong')).status).toBe(401)
      expect((await signIn(app, username)).status).toBe(200)
    }
  })

  it('notices password spraying: an address failing on 10 accounts is held back on every account', async () => {
    const { app } = makeApp()
    const sprayer = '203.0.113.66'
    for (let i = 0; i < 10; i++) {
      expect((await signIn(app, `spray.target.${i}`, 'Summer2026!', sprayer)).status).toBe(401)
    }
    const username = take('case_worker')
    const held = await signIn(app, username, DEMO_PASSWORD, sprayer)
    expect(held.status).toBe(429)
    expect(Number(held.headers.get('retry-after'))).toBeGreaterThan(0)
    expect((await signIn(app, username, DEMO_PASSWORD, '198.51.100.21')).status).toBe(200)
  })
})

describe('TOTP second factor', () => {
  const otp = (secret: string, timestamp: number) =>
    new OTPAuth.TOTP({ secret: OTPAuth.Secret.fromBase32(secret) }).generate({ timestamp })
  const otherThan = (c: string) => String((Number(c) + 500_000) % 1_000_000).padStart(6, '0')

  it('enrols a supervisor at first sign-in and keeps the session unusable until a valid code', async () => {
    const { app, clock } = makeApp()
    const username = take('supervisor')
    const s = await signIn(app, username)
    expect(s.status).toBe(200)
    expect(s.body.totp).toBe('enrolment_required')
    const uri = OTPAuth.URI.parse(s.body.totpUri!) as OTPAuth.TOTP
    expect(uri.issuer).toBe('RSU Casework')
    expect(uri.label).toBe(username)
    const secret = uri.secret.base32

    // Pending, held by this session only, not confirmed until a first valid code.
    const stored = () =>
      tdb.db
        .selectFrom('users')
        .select('totpSecret')
        .where('username', '=', username)
        .executeTakeFirstOrThrow()
    const pendingOf = (cookie: string) =>
      tdb.db
        .selectFrom('sessions')
        .select('totpPendingSecret')
        .where('id', '=', createHash('sha256').update(cookie.split('=')[1]!).digest('hex'))
        .executeTakeFirst()
    expect(await stored()).toEqual({ totpSecret: null })
    expect(await pendingOf(s.cookie)).toEqual({ totpPendingSecret: secret })

    const whoami = await get(app, '/api/private/whoami', { cookie: s.cookie })
    expect(whoami.status).toBe(401)
    expect(await code(whoami)).toBe('TOTP_REQUIRED')
    const write = await post(app, '/api/private/echo', { a: 1 }, session(s))
    expect(await code(write)).toBe('TOTP_REQUIRED')
    expect(await code(await get(app, '/api/auth/me', { cookie: s.cookie }))).toBe('TOTP_REQUIRED')

    const valid = otp(secret, clock.t)
    const wrong = await post(app, '/api/auth/totp', { code: otherThan(valid) }, session(s))
    expect(wrong.status).toBe(401)
    expect(await code(wrong)).toBe('TOTP_CODE_INVALID')
    expect((await get(app, '/api/private/whoami', { cookie: s.cookie })).status).toBe(401)

    const ok = await post(app, '/api/auth/totp', { code: valid }, session(s))
    expect(ok.status).toBe(200)
    const passed = (await ok.json()) as { csrfToken: string }
    expect(passed).toMatchObject({ totp: 'passed', user: { username } })
    expect(await stored()).toEqual({ totpSecret: secret })
    // The session is rotated: the half-open one (password only) opens nothing any more.
    const full = {
      ...s,
      cookie: (ok.headers.get('set-cookie') ?? '').split(';')[0]!,
      body: { ...s.body, csrfToken: passed.csrfToken },
    }
    expect(full.cookie).not.toBe(s.cookie)
    expect(passed.csrfToken).not.toBe(s.body.csrfToken)
    expect((await get(app, '/api/private/whoami', { cookie: s.cookie })).status).toBe(401)
    expect((await get(app, '/api/private/whoami', { cookie: full.cookie })).status).toBe(200)
    expect((await post(app, '/api/private/echo', { a: 1 }, session(full))).status).toBe(200)
    expect((await post(app, '/api/private/echo', { a: 1 }, session(s))).status).toBe(401)

    // The same code twice is refused, in this session and in a new one.
    const again = await post(app, '/api/auth/totp', { code: valid }, session(full))
    expect(await code(again)).toBe('TOTP_CODE_REUSED')
    const next = await signIn(app, username)
    expect(next.body).toMatchObject({ totp: 'required' })
    expect(next.body.totpUri).toBeUndefined()
    const replay = await post(app, '/api/auth/totp', { code: valid }, session(next))
    expect(replay.status).toBe(401)
    expect(await code(replay)).toBe('TOTP_CODE_REUSED')
    expect((await get(app, '/api/private/whoami', { cookie: next.cookie })).status).toBe(401)

    // The next time step's code opens the new session.
    clock.t += 30_000
    const later = await post(app, '/api/auth/totp', { code: otp(secret, clock.t) }, session(next))
    expect(later.status).toBe(200)
    const laterCookie = (later.headers.get('set-cookie') ?? '').split(';')[0]!
    expect((await get(app, '/api/private/whoami', { cookie: laterCookie })).status).toBe(200)
  })

  it('accepts a code one time step off (clock drift), not two', async () => {
    const { app, clock } = makeApp()
    const username = take('supervisor')
    const s = await signIn(app, username)
    const secret = (OTPAuth.URI.parse(s.body.totpUri!) as OTPAuth.TOTP).secret.base32
    const twoOff = await post(
      app,
      '/api/auth/totp',
      { code: otp(secret, clock.t - 60_000) },
      session(s),
    )
    expect(await code(twoOff)).toBe('TOTP_CODE_INVALID')
    const oneOff = await post(
      app,
      '/api/auth/totp',
      { code: otp(secret, clock.t - 30_000) },
      session(s),
    )
    expect(oneOff.status).toBe(200)
  })

  it('binds an enrolment to the session that showed it: two sign-ins get two secrets, one wins', async () => {
    const { app, clock } = makeApp()
    const username = take('supervisor')
    const first = await signIn(app, username)
    const second = await signIn(app, username)
    const secretOf = (s: SignedIn) =>
      (OTPAuth.URI.parse(s.body.totpUri!) as OTPAuth.TOTP).secret.base32
    expect(secretOf(second)).not.toBe(secretOf(first))
    // The first session's code does not confirm the second's enrolment.
    const crossed = await post(
      app,
      '/api/auth/totp',
      { code: otp(secretOf(first), clock.t) },
      session(second),
    )
    expect(await code(crossed)).toBe('TOTP_CODE_INVALID')
    const won = await post(
      app,
      '/api/auth/totp',
      { code: otp(secretOf(second), clock.t) },
      session(second),
    )
    expect(won.status).toBe(200)
    // Enrolled meanwhile: the first session's secret is not the account's.
    clock.t += 30_000
    const lost = await post(
      app,
      '/api/auth/totp',
      { code: otp(secretOf(first), clock.t) },
      session(first),
    )
    expect(lost.status).toBe(401)
  })

  it('seals TOTP secrets at rest with the data keys', async () => {
    const clock = { t: Date.now() }
    const app = new Hono<AppEnv>()
      .route(
        '/api/auth',
        authRoutes({
          db: tdb.db,
          now: () => new Date(clock.t),
          secureCookies: false,
          cipher: testCipher,
        }),
      )
      .use('/api/private/*', requireAuth({ db: tdb.db, now: () => new Date(clock.t) }))
      .get('/api/private/whoami', (c) => c.json(c.get('user')))
    app.onError(onError(log))
    const username = take('supervisor')
    const s = await signIn(app, username)
    const secret = (OTPAuth.URI.parse(s.body.totpUri!) as OTPAuth.TOTP).secret.base32
    const pending = await tdb.db
      .selectFrom('sessions')
      .select('totpPendingSecret')
      .where(
        'userId',
        '=',
        (
          await tdb.db
            .selectFrom('users')
            .select('id')
            .where('username', '=', username)
            .executeTakeFirstOrThrow()
        ).id,
      )
      .execute()
    expect(pending.map((p) => p.totpPendingSecret?.startsWith('enc:v1:'))).toEqual([true])
    const ok = await post(app, '/api/auth/totp', { code: otp(secret, clock.t) }, session(s))
    expect(ok.status).toBe(200)
    const { totpSecret } = await tdb.db
      .selectFrom('users')
      .select('totpSecret')
      .where('username', '=', username)
      .executeTakeFirstOrThrow()
    expect(totpSecret).toMatch(/^enc:v1:/)
    expect(totpSecret).not.toContain(secret)
    expect(testCipher.decrypt(totpSecret!)).toBe(secret)
    // And the next sign-in checks codes against the sealed secret.
    clock.t += 30_000
    const next = await signIn(app, username)
    const again = await post(app, '/api/auth/totp', { code: otp(secret, clock.t) }, session(next))
    expect(again.status).toBe(200)
  })

  it('counts wrong codes towards the account lockout', async () => {
    const { app, clock } = makeApp()
    const s = await signIn(app, take('supervisor'))
    const secret = (OTPAuth.URI.parse(s.body.totpUri!) as OTPAuth.TOTP).secret.base32
    const wrong = otherThan(otp(secret, clock.t))
    for (let i = 1; i <= 5; i++) {
      expect(await code(await post(app, '/api/auth/totp', { code: wrong }, session(s)))).toBe(
        'TOTP_CODE_INVALID',
      )
    }
    const locked = await post(app, '/api/auth/totp', { code: otp(secret, clock.t) }, session(s))
    expect(locked.status).toBe(423)
  })

  it('is required of programme managers and administrators, not of case workers and partners', async () => {
    const { app } = makeApp()
    expect((await signIn(app, take('programme_manager'))).body.totp).toBe('enrolment_required')
    expect((await signIn(app, take('administrator'))).body.totp).toBe('enrolment_required')
    const worker = await signIn(app, take('case_worker'))
    expect(worker.body.totp).toBe('not_required')
    expect((await get(app, '/api/private/whoami', { cookie: worker.cookie })).status).toBe(200)
    const partner = await signIn(app, take('partner'))
    expect(partner.body.totp).toBe('not_required')
    expect((await get(app, '/api/private/whoami', { cookie: partner.cookie })).status).toBe(200)
    const refused = await post(app, '/api/auth/totp', { code: '123456' }, session(worker))
    expect(await code(refused)).toBe('TOTP_NOT_REQUIRED')
  })
})

describe('CSRF protection', () => {
  it('refuses a write with the session cookie but without the right X-CSRF-Token', async () => {
    const { app } = makeApp()
    const s = await signIn(app, take('case_worker'))
    const none = await post(app, '/api/private/echo', { a: 1 }, { cookie: s.cookie })
    expect(none.status).toBe(403)
    expect(await code(none)).toBe('CSRF_TOKEN_INVALID')
    const wrong = await post(
      app,
      '/api/private/echo',
      { a: 1 },
      { cookie: s.cookie, 'x-csrf-token': 'x'.repeat(43) },
    )
    expect(await code(wrong)).toBe('CSRF_TOKEN_INVALID')
    // Another session's token does not fit this session.
    const other = await signIn(app, take('case_worker'))
    const crossed = await post(
      app,
      '/api/private/echo',
      { a: 1 },
      { cookie: s.cookie, 'x-csrf-token': other.body.csrfToken! },
    )
    expect(crossed.status).toBe(403)
    const ok = await post(app, '/api/private/echo', { a: 1 }, session(s))
    expect(ok.status).toBe(200)
    expect(await ok.json()).toEqual({ echo: { a: 1 } })
  })

  it('lets a system with a bearer token write without a CSRF token; a revoked token is refused', async () => {
    const { app } = makeApp()
    const username = take('partner')
    const user = await tdb.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow()
    const { id, token } = await createApiToken(tdb.db, { name: 'partner system', userId: user.id })
    const stored = await tdb.db
      .selectFrom('apiTokens')
      .select('tokenHash')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    expect(stored.tokenHash).not.toBe(token)
    expect(stored.tokenHash).toBe(createHash('sha256').update(token).digest('hex'))

    const bearer = { authorization: `Bearer ${token}` }
    const write = await post(app, '/api/private/echo', { a: 2 }, bearer)
    expect(write.status).toBe(200)
    expect(await (await get(app, '/api/private/whoami', bearer)).json()).toMatchObject({
      username,
      via: 'token',
      roles: [{ role: 'partner', areaCode: 'ML' }],
    })
    expect((await get(app, '/api/private/whoami', { authorization: 'Bearer nope' })).status).toBe(
      401,
    )
    expect((await get(app, '/api/private/whoami', { authorization: token })).status).toBe(401)

    await revokeApiToken(tdb.db, id)
    expect(await code(await post(app, '/api/private/echo', { a: 3 }, bearer))).toBe(
      'UNAUTHENTICATED',
    )
  })
})

describe('sign-out', () => {
  it('ends the session: the cookie no longer opens anything', async () => {
    const { app } = makeApp()
    const s = await signIn(app, take('case_worker'))
    expect((await post(app, '/api/auth/sign-out', undefined, { cookie: s.cookie })).status).toBe(
      403,
    )
    const out = await post(app, '/api/auth/sign-out', undefined, session(s))
    expect(out.status).toBe(204)
    expect(out.headers.get('set-cookie')).toMatch(/^rsu_session=; Max-Age=0/)
    const after = await get(app, '/api/private/whoami', { cookie: s.cookie })
    expect(after.status).toBe(401)
    expect(await code(after)).toBe('UNAUTHENTICATED')
  })
})

describe('password change', () => {
  it('replaces the password and ends every other session of the user', async () => {
    const { app } = makeApp()
    const username = take('case_worker')
    const a = await signIn(app, username)
    const b = await signIn(app, username)
    const change = (current: string, next: string, headers: Record<string, string> = session(a)) =>
      post(app, '/api/auth/password', { currentPassword: current, newPassword: next }, headers)

    expect(await code(await change('wrong-current', 'Nouveau-2026-mdp'))).toBe(
      'INVALID_CREDENTIALS',
    )
    const short = await change(DEMO_PASSWORD, 'short')
    expect(short.status).toBe(400)
    expect(await short.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', details: [{ path: 'newPassword' }] },
    })
    expect(username.length).toBeGreaterThanOrEqual(10)
    const same = await change(DEMO_PASSWORD, username.toUpperCase())
    expect(same.status).toBe(400)
    expect(await same.json()).toMatchObject({
      error: { code: 'VALIDATION_FAILED', message: 'The new password must not be the username' },
    })
    expect((await change(DEMO_PASSWORD, 'Nouveau-2026-mdp', { cookie: a.cookie })).status).toBe(403)

    expect((await change(DEMO_PASSWORD, 'Nouveau-2026-mdp')).status).toBe(204)
    expect((await get(app, '/api/private/whoami', { cookie: a.cookie })).status).toBe(200)
    expect((await get(app, '/api/private/whoami', { cookie: b.cookie })).status).toBe(401)
    expect((await signIn(app, username, DEMO_PASSWORD)).status).toBe(401)
    expect((await signIn(app, username, 'Nouveau-2026-mdp')).status).toBe(200)
    const hash = await tdb.db
      .selectFrom('users')
      .select('passwordHash')
      .where('username', '=', username)
      .executeTakeFirstOrThrow()
    expect(hash.passwordHash).toMatch(/^\$argon2id\$/)
  })
})

describe('session expiry', () => {
  it('ends a session idle for 8 hours, and any session 24 hours after sign-in', async () => {
    const { app, clock } = makeApp()
    const idle = await signIn(app, take('case_worker'))
    const busy = await signIn(app, take('case_worker'))
    const status = async (s: SignedIn) =>
      (await get(app, '/api/private/whoami', { cookie: s.cookie })).status
    const hours = (h: number) => (clock.t += h * 3_600_000)

    hours(7)
    expect(await status(busy)).toBe(200)
    hours(1)
    // Idle since sign-in, 8 hours ago.
    expect(await status(idle)).toBe(401)
    hours(6)
    expect(await status(busy)).toBe(200)
    hours(7)
    expect(await status(busy)).toBe(200)
    hours(3)
    // Used 3 hours ago, but signed in 24 hours ago.
    expect(await status(busy)).toBe(401)
  })
})

describe('OpenAPI', () => {
  it('documents the sign-in routes', () => {
    const api = new OpenAPIHono().route('/auth', authRoutes({ db: tdb.db, secureCookies: false }))
    const doc = api.getOpenAPI31Document({ openapi: '3.1.0', info: { title: 't', version: '0' } })
    expect(Object.keys(doc.paths ?? {}).sort()).toEqual([
      '/auth/codec-token',
      '/auth/me',
      '/auth/password',
      '/auth/sign-in',
      '/auth/sign-out',
      '/auth/totp',
    ])
    expect(Object.keys(doc.components?.securitySchemes ?? {}).sort()).toEqual([
      'bearerToken',
      'csrfHeader',
      'sessionCookie',
    ])
  })
})
