import type { ColumnType, Generated } from 'kysely'
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
  /** The second factor this session is enrolling (sealed with the data keys), if any. */
  totpPendingSecret: ColumnType<string | null, string | null | undefined, string | null>
}

export interface ApiTokensTable {
  id: Generated<string>
  name: string
  /** SHA-256 (hex) of the bearer token, which is shown once and never stored. */
  tokenHash: string
  userId: string
  createdAt: Timestamp
  revokedAt: Timestamp | null
  /** Null for a system's token (the whole API); `temporal_codec`: the codec endpoint only. */
  scope: ColumnType<'temporal_codec' | null, 'temporal_codec' | null | undefined, never>
  expiresAt: ColumnType<Date | null, Date | string | null | undefined, never>
  /** The operator session that issued a scoped token: the token ends with it. */
  sessionId: ColumnType<string | null, string | null | undefined, never>
}

export interface SignInLockoutsTable {
  /** Lowercased, whether or not such an account exists. */
  username: string
  failures: number
  lastFailureAt: Timestamp
  lockedUntil: Timestamp | null
}

export type UserAuditAction =
  | 'user_created'
  | 'user_updated'
  | 'password_changed'
  | 'password_reset'
  | 'token_issued'
  | 'token_revoked'
  | 'totp_enrolled'
  | 'self_grant_refused'

/** Every change to a user's rights and credentials (migration 2026_12_04_001500). */
export interface UserAuditTable {
  id: Generated<string>
  at: Generated<Date>
  actorUserId: string | null
  subjectUserId: string
  action: UserAuditAction
  before: ColumnType<unknown, object | null, never>
  after: ColumnType<unknown, object | null, never>
}

/** Every decode and encode request of an authenticated caller (migration 2026_12_04_001500). */
export interface CodecAuditTable {
  id: Generated<string>
  at: Generated<Date>
  userId: string
  direction: 'decode' | 'encode'
  outcome: 'ok' | 'forbidden' | 'failed' | 'rate_limited'
  payloadCount: number
  namespace: string | null
  workflowIds: ColumnType<string[], string[] | undefined, never>
  via: 'session' | 'token'
}
