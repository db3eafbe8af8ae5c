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

/** Failures from one address on one account before each further attempt must wait. */
export const PAIR_FREE_FAILURES = 5
/** The first wait, doubled at each further failure, up to PAIR_MAX_DELAY_MS. */
export const PAIR_FIRST_DELAY_MS = 30_000
export const PAIR_MAX_DELAY_MS = LOCKOUT_MS
/** Distinct accounts one address may fail on within SPRAY_WINDOW_MS before it is held back. */
export const SPRAY_ACCOUNTS = 10
export const SPRAY_WINDOW_MS = 15 * 60_000

/**
 * The password step of sign-in, guarded per account AND address (issue 15 item 7): a guesser is
 * slowed down by delays that double from the sixth failure (30 s, 1 min, 2 min … 15 min), while
 * the account's owner, from anywhere else, still signs in; nobody can lock someone else out by
 * failing on purpose. One address failing on many accounts (password spraying) is held back
 * altogether and reported. Held in this process's memory, bounded: addresses are never written
 * to the database (DESIGN §5). A success resets its pair.
 */
export function createSignInGuard(opts: {
  now: () => Date
  maxKeys?: number
  onSpraying?: (event: { accounts: number; windowMs: number }) => void
}) {
  const maxKeys = opts.maxKeys ?? 10_000
  const pairs = new Map<string, { failures: number; lastAt: number }>()
  const sprays = new Map<string, Map<string, number>>()
  const pairKey = (username: string, address: string) => `${lockoutKey(username)}\n${address}`
  const bound = <V>(map: Map<string, V>) => {
    while (map.size > maxKeys) map.delete(map.keys().next().value!)
  }
  const delayOf = (failures: number) =>
    failures < PAIR_FREE_FAILURES
      ? 0
      : Math.min(PAIR_FIRST_DELAY_MS * 2 ** (failures - PAIR_FREE_FAILURES), PAIR_MAX_DELAY_MS)
  const accountsFailedFrom = (address: string, t: number) => {
    const seen = sprays.get(address)
    if (!seen) return 0
    for (const [account, at] of seen) if (at <= t - SPRAY_WINDOW_MS) seen.delete(account)
    return seen.size
  }
  return {
    /** Seconds this address must wait before trying this account (or any, if spraying). */
    waitFor(username: string, address: string): { seconds: number; spraying: boolean } | null {
      const t = opts.now().getTime()
      if (accountsFailedFrom(address, t) >= SPRAY_ACCOUNTS) {
        const oldest = Math.min(...sprays.get(address)!.values())
        return { seconds: Math.ceil((oldest + SPRAY_WINDOW_MS - t) / 1000), spraying: true }
      }
      const pair = pairs.get(pairKey(username, address))
      if (!pair) return null
      const until = pair.lastAt + delayOf(pair.failures)
      return until > t ? { seconds: Math.ceil((until - t) / 1000), spraying: false } : null
    },
    failed(username: string, address: string): void {
      const t = opts.now().getTime()
      const key = pairKey(username, address)
      const pair = pairs.get(key)
      // A pair idle for a day starts again.
      const failures = pair && t - pair.lastAt < FAILURE_MEMORY_MS ? pair.failures + 1 : 1
      pairs.delete(key)
      pairs.set(key, { failures, lastAt: t })
      bound(pairs)
      const seen = sprays.get(address) ?? new Map<string, number>()
      seen.delete(lockoutKey(username))
      seen.set(lockoutKey(username), t)
      sprays.delete(address)
      sprays.set(address, seen)
      bound(sprays)
      const accounts = accountsFailedFrom(address, t)
      if (accounts === SPRAY_ACCOUNTS) opts.onSpraying?.({ accounts, windowMs: SPRAY_WINDOW_MS })
    },
    succeeded(username: string, address: string): void {
      pairs.delete(pairKey(username, address))
    },
  }
}
