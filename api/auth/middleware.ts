import type { Context, MiddlewareHandler } from 'hono'
import { getCookie } from 'hono/cookie'
import type { Db } from '../../activities/db/db'
import { ApiError } from '../errors'
import { findApiTokenUser, findSession, sameSecret, type SessionRecord } from './sessions'
import { requiresTotp } from './totp'
import type { AppEnv, AuthUser } from './types'

/** The browser session cookie (httpOnly, SameSite=Lax, Secure behind HTTPS). */
export const SESSION_COOKIE = 'rsu_session'
/** The header a browser write must carry, equal to the session's CSRF token. */
export const CSRF_HEADER = 'X-CSRF-Token'

export interface AuthDeps {
  db: Db
  now?: () => Date
  /** Other origins whose pages may write with a session (CONSOLE_ORIGINS); this one always. */
  origins?: readonly string[]
}

export interface Authenticated {
  user: AuthUser
  /** The browser session, or null for a bearer token. */
  session: SessionRecord | null
  /** The user holds a role that needs a second factor (only sessions ever owe one). */
  totpRequired: boolean
}

const SAFE_METHODS = new Set(['GET', 'HEAD', 'OPTIONS'])

const unauthenticated = () =>
  new ApiError(401, 'UNAUTHENTICATED', 'Sign in, or send a valid bearer token')

/**
 * Who is calling: a system's bearer token (`Authorization: Bearer …`, not revoked, its user
 * active) or a live browser session cookie. Session writes must carry the CSRF token; a session
 * of a supervisor, programme manager or administrator is refused until its TOTP code is accepted,
 * unless `allowPendingTotp` (the TOTP and sign-out routes themselves).
 */
export async function authenticate(
  c: Context,
  deps: AuthDeps,
  opts: { allowPendingTotp?: boolean; scope?: 'temporal_codec'; skipCsrf?: boolean } = {},
): Promise<Authenticated> {
  const now = (deps.now ?? (() => new Date()))()
  const authorization = c.req.header('authorization')
  if (authorization !== undefined) {
    // A malformed or unknown token is refused outright, never retried as a cookie session.
    const token = /^Bearer +([A-Za-z0-9_-]{1,200})$/.exec(authorization.trim())?.[1]
    const found = token ? await findApiTokenUser(deps.db, token, now) : null
    // A token opens only its own door: a codec token is no key to the API, nor the reverse.
    if (!found || found.scope !== (opts.scope ?? null)) throw unauthenticated()
    return { user: found.user, session: null, totpRequired: false }
  }

  const token = getCookie(c, SESSION_COOKIE)
  const found = token ? await findSession(deps.db, token, now) : null
  if (!found) throw unauthenticated()
  const { session, user } = found
  // Browsers attach cookies to cross-site requests: a write must prove it comes from our page.
  if (
    !opts.skipCsrf &&
    !SAFE_METHODS.has(c.req.method) &&
    !sameSecret(c.req.header(CSRF_HEADER) ?? '', session.csrfToken)
  ) {
    throw new ApiError(
      403,
      'CSRF_TOKEN_INVALID',
      `Missing or wrong ${CSRF_HEADER} header: send the csrfToken received at sign-in`,
    )
  }
  // Defence in depth beside the token: a browser says where a write comes from (Origin, and
  // Fetch Metadata); another site's page is refused even if it somehow holds the token.
  if (!opts.skipCsrf && !SAFE_METHODS.has(c.req.method) && crossSite(c, deps.origins ?? [])) {
    throw new ApiError(
      403,
      'CSRF_ORIGIN_REFUSED',
      'This write comes from another site: use the console of this site',
    )
  }
  const totpRequired = requiresTotp(user)
  // A password alone does not open a supervisor's, manager's or administrator's session.
  if (totpRequired && !session.totpPassed && !opts.allowPendingTotp) {
    throw new ApiError(401, 'TOTP_REQUIRED', 'Enter the code of your authenticator app')
  }
  return { user, session, totpRequired }
}

/** The host of an origin, or null when it is none (`null`, garbage). */
function originHost(origin: string): string | null {
  try {
    return new URL(origin).host
  } catch {
    return null
  }
}

/**
 * Whether a browser request comes from a page of another site: an `Origin` that is neither this
 * host nor a listed origin, or `Sec-Fetch-Site` other than `same-origin`/`none` for an origin
 * not listed. Clients that send neither (scripts, old browsers) are judged by the token alone.
 */
export function crossSite(c: Context, allowed: readonly string[]): boolean {
  const origin = c.req.header('origin')
  const site = c.req.header('sec-fetch-site')
  const listed = origin !== undefined && allowed.includes(origin)
  const host = c.req.header('host') ?? new URL(c.req.url).host
  if (origin !== undefined && !listed && originHost(origin) !== host) return true
  if (site !== undefined && site !== 'same-origin' && site !== 'none' && !listed) return true
  return false
}

/**
 * Guards protected routes: the caller must be authenticated as `authenticate` says (bearer token,
 * or session cookie with CSRF token on writes and second factor passed), else 401/403 in the one
 * error shape. Sets `c.get('user')`, from which every query scopes by role × area × sensitivity.
 */
export function requireAuth(deps: AuthDeps): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    const { user } = await authenticate(c, deps)
    c.set('user', user)
    await next()
  }
}
