import { createHash, randomBytes, timingSafeEqual } from 'node:crypto'
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
  input: { userId: string; totpPassed: boolean; now: Date },
): Promise<{ token: string; csrfToken: string; id: string }> {
  const token = newToken()
  const csrfToken = newToken()
  const id = hashToken(token)
  // Sessions of this user that have ended are deleted as new ones open.
  await db
    .deleteFrom('sessions')
    .where('userId', '=', input.userId)
    .where((eb) =>
      eb.or([
        eb('expiresAt', '<=', input.now),
        eb('lastSeenAt', '<=', new Date(input.now.getTime() - SESSION_IDLE_MS)),
      ]),
    )
    .execute()
  await db
    .insertInto('sessions')
    .values({
      id,
      userId: input.userId,
      csrfToken,
      createdAt: input.now,
      lastSeenAt: input.now,
      expiresAt: new Date(input.now.getTime() + SESSION_ABSOLUTE_MS),
      totpPassed: input.totpPassed,
    })
    .execute()
  return { token, csrfToken, id }
}

export interface SessionRecord {
  id: string
  userId: string
  csrfToken: string
  totpPassed: boolean
}

/**
 * The live session behind a cookie token, or null: unknown, past its absolute end, idle too long,
 * or its user deactivated. Slides the idle limit forward.
 */
export async function findSession(db: Db, token: string, now: Date): Promise<SessionRecord | null> {
  const id = hashToken(token)
  const row = await db
    .selectFrom('sessions')
    .innerJoin('users', 'users.id', 'sessions.userId')
    .select([
      'sessions.id',
      'sessions.userId',
      'sessions.csrfToken',
      'sessions.totpPassed',
      'sessions.lastSeenAt',
      'sessions.expiresAt',
      'users.active',
    ])
    .where('sessions.id', '=', id)
    .executeTakeFirst()
  if (!row) return null
  const idleEnd = row.lastSeenAt.getTime() + SESSION_IDLE_MS
  if (!row.active || row.expiresAt.getTime() <= now.getTime() || idleEnd <= now.getTime()) {
    await db.deleteFrom('sessions').where('id', '=', id).execute()
    return null
  }
  if (now.getTime() - row.lastSeenAt.getTime() >= TOUCH_EVERY_MS) {
    await db.updateTable('sessions').set({ lastSeenAt: now }).where('id', '=', id).execute()
  }
  return { id: row.id, userId: row.userId, csrfToken: row.csrfToken, totpPassed: row.totpPassed }
}

/** Ends one session (sign-out). */
export async function deleteSession(db: Db, id: string): Promise<void> {
  await db.deleteFrom('sessions').where('id', '=', id).execute()
}

/** Ends every session of a user but `keepId` (after a password change). */
export async function deleteOtherSessions(db: Db, userId: string, keepId: string): Promise<void> {
  await db.deleteFrom('sessions').where('userId', '=', userId).where('id', '!=', keepId).execute()
}

/** Marks the second factor as passed for this session. */
export async function markTotpPassed(db: Db, id: string): Promise<void> {
  await db.updateTable('sessions').set({ totpPassed: true }).where('id', '=', id).execute()
}

/**
 * Issues a bearer token for a system (a partner system, the registry) acting with the roles of
 * `userId`, the system's user account. The token is returned this once; only its hash is kept.
 */
export async function createApiToken(
  db: Db,
  input: { name: string; userId: string },
): Promise<{ id: string; token: string }> {
  const token = `rsu_${newToken()}`
  const row = await db
    .insertInto('apiTokens')
    .values({
      name: input.name,
      tokenHash: hashToken(token),
      userId: input.userId,
      createdAt: new Date(),
      revokedAt: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  return { id: row.id, token }
}

/** Revokes a system's bearer token: it stops working at once. */
export async function revokeApiToken(db: Db, id: string, now = new Date()): Promise<void> {
  await db
    .updateTable('apiTokens')
    .set({ revokedAt: now })
    .where('id', '=', id)
    .where('revokedAt', 'is', null)
    .execute()
}

/** The user behind a bearer token, if the token is known, not revoked, and its user active. */
export async function findApiTokenUser(db: Db, token: string): Promise<string | null> {
  const row = await db
    .selectFrom('apiTokens')
    .innerJoin('users', 'users.id', 'apiTokens.userId')
    .select('apiTokens.userId')
    .where('apiTokens.tokenHash', '=', hashToken(token))
    .where('apiTokens.revokedAt', 'is', null)
    .where('users.active', '=', true)
    .executeTakeFirst()
  return row?.userId ?? null
}

/** A user and the roles held, in areas, as the rest of the API sees them. */
export async function loadAuthUser(
  db: Db,
  userId: string,
  via: AuthUser['via'],
): Promise<AuthUser | null> {
  const user = await db
    .selectFrom('users')
    .select(['id', 'username', 'displayName', 'locale', 'sensitiveClearance'])
    .where('id', '=', userId)
    .where('active', '=', true)
    .executeTakeFirst()
  if (!user) return null
  const roles = await db
    .selectFrom('userRoles')
    .select(['roleCode', 'areaCode'])
    .where('userId', '=', userId)
    .orderBy('roleCode')
    .orderBy('areaCode')
    .execute()
  return {
    id: user.id,
    username: user.username,
    displayName: user.displayName,
    locale: user.locale,
    clearance: user.sensitiveClearance,
    roles: roles.map((r) => ({ role: r.roleCode, areaCode: r.areaCode })),
    via,
  }
}
