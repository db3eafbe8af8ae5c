import type { ColumnType, Generated } from 'kysely'
import type { Db } from '../../activities/db/db'

type Timestamp = ColumnType<Date, Date | string, Date | string>

/**
 * The sign-in tables (migration 2026_11_29_000500), typed here rather than in the shared schema so
 * that authentication stays in one place; `authDb(db)` adds them to the application's database.
 * A type alias, not an interface: `withTables` needs its implicit index signature.
 */
export type AuthDatabase = {
  sessions: {
    /** SHA-256 (hex) of the cookie's token: a copy of the table opens no session. */
    id: string
    userId: string
    csrfToken: string
    createdAt: Timestamp
    lastSeenAt: Timestamp
    expiresAt: Timestamp
    totpPassed: Generated<boolean>
  }
  apiTokens: {
    id: Generated<string>
    name: string
    /** SHA-256 (hex) of the bearer token, which is shown once and never stored. */
    tokenHash: string
    userId: string
    createdAt: Timestamp
    revokedAt: Timestamp | null
  }
  signInLockouts: {
    /** Lowercased, whether or not such an account exists. */
    username: string
    failures: number
    lastFailureAt: Timestamp
    lockedUntil: Timestamp | null
  }
  /** Columns the sign-in migration adds to `users`. */
  users: {
    totpPendingSecret: string | null
    totpLastStep: number | null
  }
}

export type AuthDb = ReturnType<typeof authDb>

/** The application's database seen with the sign-in tables. */
export const authDb = (db: Db) => db.withTables<AuthDatabase>()
