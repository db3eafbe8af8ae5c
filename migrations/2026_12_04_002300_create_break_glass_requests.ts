import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Break-glass on a sensitive case by someone without clearance needs a second person: a request
 * row, approved (or rejected) by another designated person with clearance in the case's area.
 * The requester never decides their own request (a check, not only the API's rule); one pending
 * request per person and case. A grant records the request that led to it and who approved it.
 * Requests and their decisions are audited in `access_audit`.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('break_glass_requests')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id'))
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('reason', 'text', (c) => c.notNull().check(sql`length(reason) >= 15`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'approved', 'rejected')`),
    )
    .addColumn('requested_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('decided_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('decided_at', 'timestamptz')
    // Four eyes: the requester is never the decider.
    .addCheckConstraint(
      'break_glass_requests_four_eyes',
      sql`decided_by is null or decided_by <> user_id`,
    )
    .addCheckConstraint(
      'break_glass_requests_decided',
      sql`(status = 'pending') = (decided_by is null and decided_at is null)`,
    )
    .execute()
  await sql`create unique index break_glass_requests_one_pending
    on break_glass_requests (user_id, case_id) where status = 'pending'`.execute(db)
  await db.schema
    .createIndex('break_glass_requests_case_idx')
    .on('break_glass_requests')
    .columns(['case_id', 'status'])
    .execute()
  await db.schema
    .alterTable('break_glass_grants')
    .addColumn('request_id', 'bigint', (c) => c.references('break_glass_requests.id'))
    .addColumn('approved_by', 'uuid', (c) => c.references('users.id'))
    .execute()
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found', 'export', 'break_glass',
      'break_glass_requested', 'break_glass_approved', 'break_glass_rejected'))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  // The audit log is append-only: rows written meanwhile stay, so the older rule is not validated.
  await sql`alter table access_audit drop constraint if exists access_audit_action_check`.execute(
    db,
  )
  await sql`alter table access_audit add constraint access_audit_action_check
    check (action in ('read', 'list', 'denied', 'not_found', 'export', 'break_glass'))
    not valid`.execute(db)
  await db.schema
    .alterTable('break_glass_grants')
    .dropColumn('request_id')
    .dropColumn('approved_by')
    .execute()
  await db.schema.dropTable('break_glass_requests').execute()
}
