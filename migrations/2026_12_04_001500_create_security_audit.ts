import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

const appendOnly = async (db: Kysely<unknown>, table: string) => {
  await sql`
    create function ${sql.raw(table)}_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception '${sql.raw(table)} is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
    end
    $$`.execute(db)
  await sql`
    create trigger ${sql.raw(table)}_no_update_delete before update or delete on ${sql.raw(table)}
    for each row execute function ${sql.raw(table)}_refuse_change()`.execute(db)
  await sql`
    create trigger ${sql.raw(table)}_no_truncate before truncate on ${sql.raw(table)}
    for each statement execute function ${sql.raw(table)}_refuse_change()`.execute(db)
  await sql`revoke update, delete, truncate on ${sql.raw(table)} from public`.execute(db)
}

/**
 * The doors around the API (issue 15):
 * - `users.can_decode_payloads`: the Temporal operator's permission, the only one that lets the
 *   codec endpoint decrypt workflow payloads for a person (with the second factor passed);
 * - `api_tokens.scope`, `expires_at`, `session_id`: a token scoped to the codec endpoint, issued
 *   by a signed-in operator's session for the Temporal CLI, expiring with it at the latest
 *   (signing out, a password change or a deactivation deletes the session, and so the token);
 * - `user_audit`: every change to a user's roles, areas, clearance, permissions, tokens, second
 *   factor, password and activity, with who made it and the values before and after;
 * - `codec_audit`: every decode (or encode) request of an authenticated caller: who, how many
 *   payloads, the namespace and the workflows when the request names them.
 * - `sessions.totp_pending_secret`: a second factor being enrolled belongs to the one session
 *   that showed it (sealed with the data keys), not to the account: two sign-ins before the first
 *   code no longer receive the same secret.
 * Both audit tables are append-only, for the table owner too.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('can_decode_payloads', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute()

  await db.schema
    .alterTable('api_tokens')
    .addColumn('scope', 'text', (c) => c.check(sql`scope in ('temporal_codec')`))
    .addColumn('expires_at', 'timestamptz')
    .addColumn('session_id', 'text', (c) => c.references('sessions.id').onDelete('cascade'))
    .execute()
  // A scoped token always ends.
  await sql`alter table api_tokens add constraint api_tokens_scoped_expire_check
    check (scope is null or expires_at is not null)`.execute(db)
  await db.schema
    .createIndex('api_tokens_session_idx')
    .on('api_tokens')
    .column('session_id')
    .execute()

  await db.schema.alterTable('sessions').addColumn('totp_pending_secret', 'text').execute()

  await db.schema
    .createTable('user_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    // Null when the user acted on their own account through sign-in (enrolment, password).
    .addColumn('actor_user_id', 'uuid')
    // No foreign keys: the audit outlives whatever it names.
    .addColumn('subject_user_id', 'uuid', (c) => c.notNull())
    .addColumn('action', 'text', (c) =>
      c.notNull().check(
        sql`action in ('user_created', 'user_updated', 'password_changed', 'password_reset',
            'token_issued', 'token_revoked', 'totp_enrolled', 'self_grant_refused')`,
      ),
    )
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .execute()
  await db.schema
    .createIndex('user_audit_subject_at_idx')
    .on('user_audit')
    .columns(['subject_user_id', 'at'])
    .execute()
  await appendOnly(db, 'user_audit')

  await db.schema
    .createTable('codec_audit')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('user_id', 'uuid', (c) => c.notNull())
    .addColumn('direction', 'text', (c) =>
      c.notNull().check(sql`direction in ('decode', 'encode')`),
    )
    .addColumn('outcome', 'text', (c) =>
      c.notNull().check(sql`outcome in ('ok', 'forbidden', 'failed', 'rate_limited')`),
    )
    .addColumn('payload_count', 'integer', (c) => c.notNull().check(sql`payload_count >= 0`))
    .addColumn('namespace', 'text')
    .addColumn('workflow_ids', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('via', 'text', (c) => c.notNull().check(sql`via in ('session', 'token')`))
    .execute()
  await db.schema
    .createIndex('codec_audit_user_at_idx')
    .on('codec_audit')
    .columns(['user_id', 'at'])
    .execute()
  await appendOnly(db, 'codec_audit')
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of ['codec_audit', 'user_audit']) {
    await db.schema.dropTable(table).execute()
    await sql`drop function ${sql.raw(table)}_refuse_change()`.execute(db)
  }
  await db.schema.dropIndex('api_tokens_session_idx').execute()
  await sql`alter table api_tokens drop constraint api_tokens_scoped_expire_check`.execute(db)
  await db.schema
    .alterTable('api_tokens')
    .dropColumn('session_id')
    .dropColumn('expires_at')
    .dropColumn('scope')
    .execute()
  await db.schema.alterTable('sessions').dropColumn('totp_pending_secret').execute()
  await db.schema.alterTable('users').dropColumn('can_decode_payloads').execute()
}
