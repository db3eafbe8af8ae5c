import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'

/** Consecutive failures (password or TOTP code) that lock an account. */
export const LOCKOUT_FAILURES = 5
export const LOCKOUT_MS = 15 * 60_000
/** Failures older than this no longer count, and their rows are deleted. */
const FAILURE_MEMORY_MS = 24 * 3_600_000

/** The lockout key: usernames are unique case-insensitively. */
export const lockoutKey = (username: string) => username.trim().toLowerCase()

/** Seconds until the account is unlocked, or null if it is not locked. */
export async function lockedForSeconds(db: Db, username: string, now: Date) {
  const row = await db
    .selectFrom('signInLockouts')
    .select('lockedUntil')
    .where('username', '=', lockoutKey(username))
    .where('lockedUntil', '>', now)
    .executeTakeFirst()
  if (!row?.lockedUntil) return null
  return Math.max(1, Math.ceil((row.lockedUntil.getTime() - now.getTime()) / 1000))
}

/**
 * Counts one failure for a username (existing or not) and locks it for LOCKOUT_MS at the
 * LOCKOUT_FAILURES-th consecutive one. Atomic, so concurrent failures are all counted; a count
 * whose lock has expired, or whose last failure is a day old, starts again.
 */
export async function recordFailure(db: Db, username: string, now: Date): Promise<void> {
  const stale = new Date(now.getTime() - FAILURE_MEMORY_MS)
  const lockEnd = new Date(now.getTime() + LOCKOUT_MS)
  const next = sql`case when l.locked_until <= ${now} or l.last_failure_at < ${stale}
    then 1 else l.failures + 1 end`
  await sql`
    insert into sign_in_lockouts as l (username, failures, last_failure_at, locked_until)
    values (${lockoutKey(username)}, 1, ${now}, null)
    on conflict (username) do update set
      failures = ${next},
      last_failure_at = ${now},
      locked_until = case when ${next} >= ${LOCKOUT_FAILURES} then ${lockEnd}::timestamptz else null end
  `.execute(db)
  // Usernames typed by mistake (sometimes a password) are not kept longer than needed.
  await sql`delete from sign_in_lockouts
    where last_failure_at < ${stale} and (locked_until is null or locked_until < ${now})`.execute(
    db,
  )
}

/** A complete sign-in resets the count of consecutive failures. */
export async function clearFailures(db: Db, username: string): Promise<void> {
  await db.deleteFrom('signInLockouts').where('username', '=', lockoutKey(username)).execute()
}
