import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Break-glass: a designated person (supervisor, programme manager) may open a case outside their
 * scope, or a sensitive one, for a limited time with a written reason. Every grant is kept (no
 * update, no delete) and reported; the access itself is audited in `access_audit`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('break_glass_grants')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`length(reason) >= 15`))
    .addColumn('granted_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('expires_at', 'timestamptz', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('break_glass_user_case_idx')
    .on('break_glass_grants')
    .columns(['user_id', 'case_id', 'expires_at'])
    .execute()
  await sql`
    create function break_glass_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'break_glass_grants is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
    end
    $$`.execute(db)
  await sql`
    create trigger break_glass_no_update_delete before update or delete on break_glass_grants
    for each row execute function break_glass_refuse_change()`.execute(db)
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found', 'export', 'break_glass'))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The audit log is append-only: rows written meanwhile stay, so the older rule is not validated.
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found', 'export')) not valid`.execute(db)
  await db.schema.dropTable('break_glass_grants').execute()
  await sql`drop function break_glass_refuse_change()`.execute(db)
}
