import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * How a complainant follows a grievance without an account: its public reference and a PIN,
 * stored only as an argon2id hash. Failed PIN attempts are counted per reference (a 6-digit PIN
 * must not be guessable by trying). No address or user agent is ever stored.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('case_tracking')
    .addColumn('reference', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().unique())
    .addColumn('pin_hash', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('fr'))
    .addColumn('failed_attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('locked_until', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('case_tracking').execute()
}
