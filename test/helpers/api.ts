import * as OTPAuth from 'otpauth'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import { createLogger } from '../../activities/infra/logger'
import { loadAuthUser } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { ApiError, onError } from '../../api/errors'

/**
 * An app whose sign-in is replaced by the user named in the `x-test-user` header, loaded as the
 * real middleware loads users (roles in areas, clearance): for tests of one router's rules
 * without the TOTP and CSRF steps, which `test/api/auth.test.ts` covers.
 */
export function appSignedInByHeader(db: Db, mount: (api: OpenAPIHono<AppEnv>) => void) {
  const api = new OpenAPIHono<AppEnv>()
  api.use('/api/*', async (c, next) => {
    const username = c.req.header('x-test-user') ?? ''
    const row = await db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirst()
    const user = row ? await loadAuthUser(db, row.id, 'session') : null
    if (!user) throw new ApiError(401, 'UNAUTHENTICATED', 'sign in')
    c.set('user', user)
    await next()
  })
  mount(api)
  api.onError(onError(createLogger('silent', false)))
  return api
}

/** Anything with Hono's `request` (an app or a router). */
interface Requester {
  request(path: string, init?: RequestInit, env?: unknown): Response | Promise<Response>
}

/** Node server bindings as `@hono/node-server` passes them, so getConnInfo sees an address. */
export const fromAddress = (address: string) => ({
  incoming: { socket: { remoteAddress: address } },
})

export interface BrowserSession {
  /** `rsu_session=…`, to send as the Cookie header. */
  cookie: string
  csrfToken: string
  /** The TOTP secret enrolled during this sign-in, when one was owed. */
  totpSecret?: string
}

/**
 * Signs a demo user in through the real routes, as the console does: password, then (for the
 * roles and permissions that owe one) enrolment of a second factor with a valid code. The user
 * must not have enrolled before (tests take fresh accounts).
 */
export async function signInThroughRoutes(
  app: Requester,
  username: string,
  password: string,
  address = '192.0.2.10',
): Promise<BrowserSession> {
  const res = await app.request(
    '/api/auth/sign-in',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json' },
      body: JSON.stringify({ username, password }),
    },
    fromAddress(address),
  )
  if (res.status !== 200) throw new Error(`sign-in of ${username}: ${res.status}`)
  const body = (await res.json()) as { csrfToken: string; totp: string; totpUri?: string }
  const cookie = (res.headers.get('set-cookie') ?? '').split(';')[0]!
  if (body.totp === 'not_required') return { cookie, csrfToken: body.csrfToken }
  if (!body.totpUri) throw new Error(`${username} has already enrolled a second factor`)
  const totp = OTPAuth.URI.parse(body.totpUri) as OTPAuth.TOTP
  const passed = await app.request(
    '/api/auth/totp',
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', cookie, 'x-csrf-token': body.csrfToken },
      body: JSON.stringify({ code: totp.generate() }),
    },
    fromAddress(address),
  )
  if (passed.status !== 200) throw new Error(`second factor of ${username}: ${passed.status}`)
  // The session is rotated once the code is accepted: new cookie, new CSRF token.
  const rotated = (await passed.json()) as { csrfToken: string }
  return {
    cookie: (passed.headers.get('set-cookie') ?? '').split(';')[0]!,
    csrfToken: rotated.csrfToken,
    totpSecret: totp.secret.base32,
  }
}
