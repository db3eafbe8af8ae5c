import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Sign-in state. Only hashes of bearer secrets are stored (a leaked table opens no session), and
 * nothing about the client: no address, no user agent (DESIGN §5).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  // A browser session. `id` is the SHA-256 of the cookie's random token, never the token itself.
  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('csrf_token', 'text', (c) => c.notNull())
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('last_seen_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Absolute end of the session; the idle limit is checked against last_seen_at.
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .addColumn('totp_passed', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute()
  await db.schema.createIndex('sessions_user_idx').on('sessions').column('user_id').execute()
  await db.schema.createIndex('sessions_expires_idx').on('sessions').column('expires_at').execute()

  // A system's credential (partner system, the registry); acts with the roles of `user_id`.
  await db.schema
    .createTable('api_tokens')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('token_hash', 'text', (c) => c.notNull().unique())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('revoked_at', 'timestamptz')
    .execute()
  await db.schema.createIndex('api_tokens_user_idx').on('api_tokens').column('user_id').execute()

  // Consecutive failed sign-ins per lowercased username, whether or not the account exists, so
  // that a lockout answers alike for both and does not reveal which usernames are real.
  await db.schema
    .createTable('sign_in_lockouts')
    .addColumn('username', 'text', (c) => c.primaryKey())
    .addColumn('failures', 'integer', (c) => c.notNull())
    .addColumn('last_failure_at', 'timestamptz', (c) => c.notNull())
    .addColumn('locked_until', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('sign_in_lockouts_last_failure_idx')
    .on('sign_in_lockouts')
    .column('last_failure_at')
    .execute()

  // Second factor: a secret shown at enrolment but not yet confirmed by a first valid code, and
  // the last accepted time step, so that a code is never accepted twice.
  await db.schema
    .alterTable('users')
    .addColumn('totp_pending_secret', 'text')
    .addColumn('totp_last_step', 'integer')
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .dropColumn('totp_last_step')
    .dropColumn('totp_pending_secret')
    .execute()
  await db.schema.dropTable('sign_in_lockouts').execute()
  await db.schema.dropTable('api_tokens').execute()
  await db.schema.dropTable('sessions').execute()
}
