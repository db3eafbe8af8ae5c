import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/** Five years, in seconds: the retention period until an administrator sets another. */
const DEFAULT_RETENTION_SECONDS = 5 * 365 * 24 * 3600

export async function up(db: Kysely<unknown>): Promise<void> {
  // When the retention workflow anonymised the case (null: not yet).
  await db.schema.alterTable('cases').addColumn('anonymised_at', 'timestamptz').execute()
  await db.schema
    .createIndex('cases_retention_idx')
    .on('cases')
    .column('closed_at')
    .where(sql.ref('anonymised_at'), 'is', null)
    .execute()
  await sql`
    insert into app_settings (key, value)
    values ('retention', ${JSON.stringify({ closedCaseSeconds: DEFAULT_RETENTION_SECONDS })}::jsonb)
    on conflict (key) do nothing`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from app_settings where key = 'retention'`.execute(db)
  await db.schema.dropIndex('cases_retention_idx').execute()
  await db.schema.alterTable('cases').dropColumn('anonymised_at').execute()
}
