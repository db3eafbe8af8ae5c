import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Indexes that serve the console's case lists in their own order, so that a page of 25 stops
 * after reading about 25 matching rows instead of sorting every match: open cases by due time
 * (the default work list, alone or with an SLA state or an area) and cases newest first (with or
 * without an area). `id` closes each key as the lists' tie-breaker. Plain `create index`: Kysely
 * runs a migration in a transaction, where `concurrently` is not allowed.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`create index cases_status_due_idx on cases (status, resolve_due_at, id)`.execute(db)
  await sql`create index cases_opened_desc_idx on cases (opened_at desc nulls last, id)`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`drop index if exists cases_opened_desc_idx`.execute(db)
  await sql`drop index if exists cases_status_due_idx`.execute(db)
}
