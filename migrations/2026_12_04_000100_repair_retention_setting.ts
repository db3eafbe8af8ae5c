import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Migration 2026_11_29_001200 passed the retention setting as a string parameter cast to jsonb,
 * which the driver serialised once more: `app_settings.retention` holds a JSON *string*
 * (`"{\"closedCaseSeconds\":…}"`), which the retention run refuses as invalid, so closed cases were
 * never anonymised on a migrated database. The string becomes the object it spells. A value that
 * does not parse is left alone (the retention run goes on refusing it, and says why).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`
    do $$
    begin
      update app_settings
      set value = (value #>> '{}')::jsonb, updated_at = now()
      where key = 'retention' and jsonb_typeof(value) = 'string';
    exception when invalid_text_representation then
      null;
    end
    $$`.execute(db)
}

export async function down(): Promise<void> {
  // Nothing to undo: the string form was never readable.
}
