import type { Generated } from 'kysely'
import type { Timestamp } from './columns'

/** Sign-in (migration 2026_11_29_000500): sessions, API tokens, lockouts. */

export interface SessionsTable {
  /** SHA-256 (hex) of the cookie's token: a copy of the table opens no session. */
  id: string
  userId: string
  csrfToken: string
  createdAt: Timestamp
  lastSeenAt: Timestamp
  expiresAt: Timestamp
  totpPassed: Generated<boolean>
}

export interface ApiTokensTable {
  id: Generated<string>
  name: string
  /** SHA-256 (hex) of the bearer token, which is shown once and never stored. */
  tokenHash: string
  userId: string
  createdAt: Timestamp
  revokedAt: Timestamp | null
}

export interface SignInLockoutsTable {
  /** Lowercased, whether or not such an account exists. */
  username: string
  failures: number
  lastFailureAt: Timestamp
  lockedUntil: Timestamp | null
}
