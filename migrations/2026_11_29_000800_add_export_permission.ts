import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Exports are a separate permission (DESIGN §5): `users.can_export`, off unless an administrator
 * grants it to the person. Every export lands in `access_audit` as action `export`, with the
 * number of rows it carried in `row_count` (a count, nothing personal) and what was exported in
 * `export_kind` (`cases`: one row per case; `report`: aggregates).
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('can_export', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute()
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found', 'export'))`.execute(db)
  await db.schema
    .alterTable('access_audit')
    .addColumn('row_count', 'integer', (c) => c.check(sql`row_count >= 0`))
    .addColumn('export_kind', 'text', (c) => c.check(sql`export_kind in ('cases', 'report')`))
    .execute()
  // An export row always says how much left and what it was.
  await sql`alter table access_audit add constraint access_audit_export_detail_check
    check (action <> 'export' or (row_count is not null and export_kind is not null))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`alter table access_audit drop constraint access_audit_export_detail_check`.execute(db)
  await db.schema
    .alterTable('access_audit')
    .dropColumn('export_kind')
    .dropColumn('row_count')
    .execute()
  // The audit log is append-only: export rows written meanwhile stay, so the older rule is not
  // validated against them.
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found')) not valid`.execute(db)
  await db.schema.alterTable('users').dropColumn('can_export').execute()
}
