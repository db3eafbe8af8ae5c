import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Referrals and appeals (DESIGN §4).
 * - A partner user belongs to one organisation (`users.partner_code`): they see the referrals
 *   routed to it, nothing else.
 * - Referral without consent on a sensitive case is a separate permission
 *   (`users.can_override_consent`), off unless an administrator grants it; each use is audited.
 * - Coverage order: `partner_services.priority` (lower first) decides which partner a referral
 *   goes to first, and where it goes next after a decline or a lapsed deadline.
 * - A partner may receive signed webhooks: its URL and its secret, the secret encrypted at rest
 *   with the field cipher (`enc:v1:…`).
 * - `referrals` is the read model of a referral beside its `cases` row (service, partner, leg
 *   deadline), and `webhook_deliveries` makes each webhook event delivered at most once.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('users')
    .addColumn('partner_code', 'text', (c) => c.references('partners.code'))
    .addColumn('can_override_consent', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute()
  await db.schema
    .alterTable('partner_services')
    .addColumn('priority', 'integer', (c) => c.notNull().defaultTo(100))
    .execute()
  await db.schema
    .alterTable('partners')
    .addColumn('webhook_url', 'text', (c) => c.check(sql`webhook_url ~ '^https?://'`))
    .addColumn('webhook_secret', 'text')
    .execute()

  await db.schema
    .createTable('referrals')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('cases.id'))
    .addColumn('source_case_id', 'text', (c) => c.references('cases.id'))
    .addColumn('service_code', 'text', (c) => c.notNull().references('services.code'))
    // The partner it is routed to now (null while with the supervisor).
    .addColumn('partner_code', 'text', (c) => c.references('partners.code'))
    .addColumn('partner_status', 'text', (c) =>
      c
        .notNull()
        .check(
          sql`partner_status in ('awaiting_response', 'accepted', 'delivered', 'not_delivered', 'unrouted', 'closed')`,
        ),
    )
    .addColumn('household_id', 'text')
    .addColumn('leg', 'text')
    .addColumn('due_at', 'timestamptz')
    .addColumn('at_risk_at', 'timestamptz')
    .addColumn('consent', 'jsonb', (c) => c.notNull())
    .addColumn('partners_tried', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull())
    .addColumn('last_event_seq', 'integer', (c) => c.notNull())
    .execute()
  await db.schema
    .createIndex('referrals_partner_idx')
    .on('referrals')
    .columns(['partner_code', 'due_at'])
    .execute()

  await db.schema
    .createTable('webhook_deliveries')
    // Workflow id + event sequence: the same event is never delivered twice.
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('partner_code', 'text', (c) => c.notNull().references('partners.code'))
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('event_type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'delivered', 'failed')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_status', 'integer')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('delivered_at', 'timestamptz')
    .execute()

  // The chain of linked cases is followed both ways (GET /api/cases/{id}): index the far end too.
  await db.schema.createIndex('case_links_to_idx').on('case_links').column('to_case_id').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.dropIndex('case_links_to_idx').execute()
  await db.schema.dropTable('webhook_deliveries').execute()
  await db.schema.dropTable('referrals').execute()
  await db.schema
    .alterTable('partners')
    .dropColumn('webhook_secret')
    .dropColumn('webhook_url')
    .execute()
  await db.schema.alterTable('partner_services').dropColumn('priority').execute()
  await db.schema
    .alterTable('users')
    .dropColumn('can_override_consent')
    .dropColumn('partner_code')
    .execute()
}
