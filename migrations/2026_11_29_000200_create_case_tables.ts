import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

export async function up(db: Kysely<unknown>): Promise<void> {
  // The read model of case workflows: one row per case, projected by activities.
  await db.schema
    .createTable('cases')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('workflow_id', 'text', (c) => c.notNull().unique())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('grievance', 'reverification', 'referral', 'appeal')`),
    )
    .addColumn('status', 'text', (c) => c.notNull().defaultTo('open'))
    .addColumn('stage', 'text', (c) => c.notNull())
    .addColumn('area_code', 'text', (c) => c.notNull().references('admin_areas.code'))
    .addColumn('category', 'text')
    .addColumn('priority', 'text', (c) => c.notNull().defaultTo('normal'))
    .addColumn('channel', 'text')
    .addColumn('sensitive', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('sla_state', 'text', (c) => c.notNull().defaultTo('on_track'))
    .addColumn('ack_due_at', 'timestamptz')
    .addColumn('resolve_due_at', 'timestamptz')
    .addColumn('escalation_level', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('parent_case_id', 'text', (c) => c.references('cases.id'))
    .addColumn('household_id', 'text')
    .addColumn('opened_at', 'timestamptz', (c) => c.notNull())
    .addColumn('closed_at', 'timestamptz')
    // Highest event sequence applied: a late or repeated projection never overwrites a newer one.
    .addColumn('last_event_seq', 'integer', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('cases_area_status_due_idx')
    .on('cases')
    .columns(['area_code', 'status', 'resolve_due_at'])
    .execute()
  await db.schema
    .createIndex('cases_sla_due_idx')
    .on('cases')
    .columns(['sla_state', 'resolve_due_at'])
    .execute()
  await db.schema
    .createIndex('cases_kind_status_idx')
    .on('cases')
    .columns(['kind', 'status'])
    .execute()
  await db.schema.createIndex('cases_opened_idx').on('cases').column('opened_at').execute()
  await db.schema.createIndex('cases_parent_idx').on('cases').column('parent_case_id').execute()

  await db.schema
    .createTable('tasks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('open', 'claimed', 'completed', 'cancelled')`),
    )
    .addColumn('candidate_role', 'text', (c) => c.notNull().references('roles.code'))
    .addColumn('area_code', 'text', (c) => c.notNull().references('admin_areas.code'))
    .addColumn('assignee_id', 'uuid', (c) => c.references('users.id'))
    .addColumn('due_at', 'timestamptz')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('completed_at', 'timestamptz')
    .addColumn('completed_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('result', 'jsonb')
    .addColumn('last_event_seq', 'integer', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('tasks_assignee_status_due_idx')
    .on('tasks')
    .columns(['assignee_id', 'status', 'due_at'])
    .execute()
  await db.schema
    .createIndex('tasks_area_role_status_idx')
    .on('tasks')
    .columns(['area_code', 'candidate_role', 'status'])
    .execute()
  await db.schema.createIndex('tasks_case_idx').on('tasks').column('case_id').execute()

  // The audit trail: who did what, when, from which role. Append-only (see triggers below).
  await db.schema
    .createTable('case_events')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('workflow_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'uuid')
    .addColumn('actor_role', 'text')
    .addColumn('occurred_at', 'timestamptz', (c) => c.notNull())
    .addColumn('recorded_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('before', 'jsonb')
    .addColumn('after', 'jsonb')
    .addColumn('data', 'jsonb')
    // The idempotency key of projections: an activity retried after a crash writes nothing twice.
    .addUniqueConstraint('case_events_workflow_seq_key', ['workflow_id', 'seq'])
    .execute()
  await db.schema
    .createIndex('case_events_case_seq_idx')
    .on('case_events')
    .columns(['case_id', 'seq'])
    .execute()
  await sql`
    create function case_events_refuse_change() returns trigger language plpgsql as $$
    begin
      raise exception 'case_events is append-only: % refused', tg_op
        using errcode = 'insufficient_privilege';
    end
    $$`.execute(db)
  // Triggers bind every role, the table owner included; REVOKE covers roles granted later.
  await sql`
    create trigger case_events_no_update_delete before update or delete on case_events
    for each row execute function case_events_refuse_change()`.execute(db)
  await sql`
    create trigger case_events_no_truncate before truncate on case_events
    for each statement execute function case_events_refuse_change()`.execute(db)
  await sql`revoke update, delete, truncate on case_events from public`.execute(db)

  // Notifications are written here in the same transaction as the business event, then sent.
  await db.schema
    .createTable('notification_outbox')
    .addColumn('id', 'bigserial', (c) => c.primaryKey())
    // Deterministic per business event and recipient: a retried activity queues nothing twice.
    .addColumn('dedupe_key', 'text', (c) => c.notNull().unique())
    .addColumn('case_id', 'text', (c) => c.references('cases.id'))
    .addColumn('template', 'text', (c) => c.notNull())
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('fr'))
    .addColumn('channel', 'text', (c) => c.notNull().defaultTo('email'))
    .addColumn('recipient', 'text', (c) => c.notNull())
    .addColumn('params', 'jsonb', (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'sent', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('message_id', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('next_attempt_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('notification_outbox_pending_idx')
    .on('notification_outbox')
    .column('next_attempt_at')
    .where(sql.ref('status'), '=', 'pending')
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropTable('notification_outbox').execute()
  await db.schema.dropTable('case_events').execute()
  await sql`drop function case_events_refuse_change()`.execute(db)
  await db.schema.dropTable('tasks').execute()
  await db.schema.dropTable('cases').execute()
}
