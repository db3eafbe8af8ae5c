import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import type { AuthUser } from './types'

/** A session unused for this long is over (sliding expiry). */
export const SESSION_IDLE_MS = 8 * 3_600_000
/** A session is over this long after sign-in, however active (absolute expiry). */
export const SESSION_ABSOLUTE_MS = 24 * 3_600_000
/** last_seen_at is written at most this often, not on every request. */
const TOUCH_EVERY_MS = 60_000

/** 256 random bits, URL-safe: the cookie value, a bearer token, a CSRF token. */
export const newToken = () => randomBytes(32).toString('base64url')

/** What is stored for a secret token: its SHA-256, so the table alone opens nothing. */
export const hashToken = (token: string) => createHash('sha256').update(token).digest('hex')

/** Constant-time comparison of two strings (CSRF tokens). */
export function sameSecret(a: string, b: string): boolean {
  const x = Buffer.from(a)
  const y = Buffer.from(b)
  return x.length === y.length && timingSafeEqual(x, y)
}

/**
 * Opens a browser session for a user whose password was just verified. The token goes into the
 * cookie and only its hash into the table; `totpPassed` is false while a second factor is owed.
 */
export async function createSession(
  db: Db,
  input: { userId: string; totpPassed: boolean; now: Date; totpPendingSecret?: string | null },
): Promise<{ token: string; csrfToken: string; id: string }> {
  const token = newToken()
  const csrfToken = newToken()
  const id = hashToken(token)
  const adb = db
  // Sessions of this user that have ended are deleted as new ones open.
  await adb
    .deleteFrom('sessions')
    .where('userId', '=', input.userId)
    .where((eb) =>
      eb.or([
        eb('expiresAt', '<=', input.now),
        eb('lastSeenAt', '<=', new Date(input.now.getTime() - SESSION_IDLE_MS)),
      ]),
    )
    .execute()
  await adb
    .insertInto('sessions')
    .values({
      id,
      userId: input.userId,
      csrfToken,
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt: new Date(input.now.getTime() + SESSION_ABSOLUTE_MS),
      totpPassed: input.totpPassed,
      totpPendingSecret: input.totpPendingSecret ?? null,
    })
    .execute()
  return { token, csrfToken, id }
}

export interface SessionRecord {
  id: string
  userId: string
  csrfToken: string
  totpPassed: boolean
  /** Absolute end of the session: tokens it issues end no later. */
  expiresAt: Date
}

/** The roles of user `u`, aggregated in the same statement (no second round trip). */
const rolesOf = (user: ReturnType<typeof sql.ref>) => sql<AuthUser['roles']>`coalesce(
  (select json_agg(json_build_object('role', r.role_code, 'areaCode', r.area_code)
     order by r.role_code, r.area_code)
   from user_roles r where r.user_id = ${user}), '[]'::json)`

type UserRow = {
  userId: string
  username: string
  displayName: string
  locale: 'fr' | 'en'
  clearance: boolean
  canDecodePayloads: boolean
  roles: AuthUser['roles']
}
const toUser = (row: UserRow, via: AuthUser['via']): AuthUser => ({
  id: row.userId,
  username: row.username,
  displayName: row.displayName,
  locale: row.locale,
  clearance: row.clearance,
  canDecodePayloads: row.canDecodePayloads,
  roles: row.roles,
  via,
})

/**
 * The live session behind a cookie token and its user with roles, in ONE SQL statement (issue
 * 12: authentication costs one statement per request), or null: unknown, past its absolute end,
 * idle too long, or its user deactivated (such a session is deleted by the same statement).
 * Slides the idle limit forward at most once a minute, in the same statement too. Revocation
 * takes effect on the next request because nothing is cached: sign-out and a password change
 * delete the row, a deactivation fails the `active` test.
 */
export async function findSession(
  db: Db,
  token: string,
  now: Date,
): Promise<{ session: SessionRecord; user: AuthUser } | null> {
  const id = hashToken(token)
  const idleStart = new Date(now.getTime() - SESSION_IDLE_MS)
  const touchBefore = new Date(now.getTime() - TOUCH_EVERY_MS)
  const { rows } = await sql<
    UserRow & { id: string; csrfToken: string; totpPassed: boolean; expiresAt: Date }
  >`
    with found as (
      select s.id, s.user_id, s.csrf_token, s.totp_passed, s.expires_at, u.username,
        u.display_name, u.locale, u.sensitive_clearance, u.can_decode_payloads,
        (u.active and s.expires_at > ${now} and s.last_seen_at > ${idleStart}) as live,
        s.last_seen_at <= ${touchBefore} as stale
      from sessions s join users u on u.id = s.user_id
      where s.id = ${id}
    ),
    ended as (
      delete from sessions where id in (select f.id from found f where not f.live)
    ),
    touched as (
      update sessions set last_seen_at = ${now}
      where id in (select f.id from found f where f.live and f.stale)
    )
    select f.id as "id", f.user_id as "userId", f.csrf_token as "csrfToken",
      f.totp_passed as "totpPassed", f.expires_at as "expiresAt", f.username as "username",
      f.display_name as "displayName", f.locale as "locale", f.sensitive_clearance as "clearance",
      f.can_decode_payloads as "canDecodePayloads", ${rolesOf(sql.ref('f.user_id'))} as "roles"
    from found f where f.live`.execute(db)
  const row = rows[0]
  if (!row) return null
  return {
    session: {
      id: row.id,
      userId: row.userId,
      csrfToken: row.csrfToken,
      totpPassed: row.totpPassed,
      expiresAt: new Date(row.expiresAt),
    },
    user: toUser(row, 'session'),
  }
}

/** Ends one session (sign-out). */
export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

/** Ends every session of a user but `keepId` (after a password change). */
export async function deleteOtherSessions(db: Db, userId: string, keepId: string): Promise<void> {
  await db.deleteFrom('sessions').where('userId', '=', userId).where('id', '!=', keepId).execute()
}

/**
 * Issues a bearer token for a system (a partner system, the registry) acting with the roles of
 * `userId`, the system's user account, or, with `scope`, a token for one door only (the codec
 * endpoint) that ends at `expiresAt` or with `sessionId`. The token is returned this once; only
 * its hash is kept. Recorded in `user_audit` (who issued it, for whom, which scope).
 */
export async function createApiToken(
  db: Db,
  input: {
    name: string
    userId: string
    actorUserId?: string | null
    scope?: 'temporal_codec'
    expiresAt?: Date
    sessionId?: string
  },
): Promise<{ id: string; token: string }> {
  const token = `rsu_${newToken()}`
  return db.transaction().execute(async (trx) => {
    const row = await trx
      .insertInto('apiTokens')
      .values({
        name: input.name,
        tokenHash: hashToken(token),
        userId: input.userId,
        createdAt: new Date(),
        revokedAt: null,
        scope: input.scope ?? null,
        expiresAt: input.expiresAt ?? null,
        sessionId: input.sessionId ?? null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await trx
      .insertInto('userAudit')
      .values({
        actorUserId: input.actorUserId ?? null,
        subjectUserId: input.userId,
        action: 'token_issued',
        before: null,
        after: {
          tokenId: row.id,
          name: input.name,
          scope: input.scope ?? null,
          expiresAt: input.expiresAt?.toISOString() ?? null,
        },
      })
      .execute()
    return { id: row.id, token }
  })
}

/** Revokes a bearer token: it stops working at once. Recorded in `user_audit`. */
export async function revokeApiToken(
  db: Db,
  id: string,
  now = new Date(),
  actorUserId: string | null = null,
): Promise<void> {
  await db.transaction().execute(async (trx) => {
    const revoked = await trx
      .updateTable('apiTokens')
      .set({ revokedAt: now })
      .where('id', '=', id)
      .where('revokedAt', 'is', null)
      .returning(['userId', 'name'])
      .executeTakeFirst()
    if (!revoked) return
    await trx
      .insertInto('userAudit')
      .values({
        actorUserId,
        subjectUserId: revoked.userId,
        action: 'token_revoked',
        before: { tokenId: id, name: revoked.name },
        after: { tokenId: id, revokedAt: now.toISOString() },
      })
      .execute()
  })
}

/**
 * The user behind a bearer token, with roles, in ONE SQL statement: the token is known, not
 * revoked, not expired, and its user active. `scope` is null for a system's token (the whole
 * API) or the one door a scoped token opens; the caller checks it.
 */
export async function findApiTokenUser(
  db: Db,
  token: string,
  now: Date = new Date(),
): Promise<{ user: AuthUser; scope: 'temporal_codec' | null } | null> {
  const { rows } = await sql<UserRow & { scope: 'temporal_codec' | null }>`
    select u.id as "userId", u.username as "username", u.display_name as "displayName",
      u.locale as "locale", u.sensitive_clearance as "clearance",
      u.can_decode_payloads as "canDecodePayloads", t.scope as "scope",
      ${rolesOf(sql.ref('u.id'))} as "roles"
    from api_tokens t join users u on u.id = t.user_id
    where t.token_hash = ${hashToken(token)} and t.revoked_at is null and u.active
      and (t.expires_at is null or t.expires_at > ${now})`.execute(db)
  const row = rows[0]
  return row ? { user: toUser(row, 'token'), scope: row.scope } : null
}

/** A user and the roles held, in areas, as the rest of the API sees them (one statement). */
export async function loadAuthUser(
  db: Db,
  userId: string,
  via: AuthUser['via'],
): Promise<AuthUser | null> {
  const { rows } = await sql<UserRow>`
    select u.id as "userId", u.username as "username", u.display_name as "displayName",
      u.locale as "locale", u.sensitive_clearance as "clearance",
      u.can_decode_payloads as "canDecodePayloads", ${rolesOf(sql.ref('u.id'))} as "roles"
    from users u where u.id = ${userId} and u.active`.execute(db)
  return rows[0] ? toUser(rows[0], via) : null
}
