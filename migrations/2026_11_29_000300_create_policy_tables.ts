import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

export async function up(db: Kysely<unknown>): Promise<void> {
  // Grievance categories: seeded here because workflows route on them; editable by administrators.
  await db.schema
    .createTable('categories')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('case_kind', 'text', (c) => c.notNull().defaultTo('grievance'))
    .addColumn('label_fr', 'text', (c) => c.notNull())
    .addColumn('label_en', 'text', (c) => c.notNull())
    // Sensitive categories go only to designated focal points, within hours.
    .addColumn('sensitive', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute()
  await db
    .insertInto('categories' as never)
    .values(
      [
        ['exclusion_error', "Erreur d'exclusion", 'Exclusion error', false],
        ['inclusion_error', "Erreur d'inclusion", 'Inclusion error', false],
        ['payment_not_received', 'Paiement non reçu', 'Payment not received', false],
        ['wrong_amount', 'Montant erroné', 'Wrong amount', false],
        ['data_correction', 'Correction de données', 'Data correction', false],
        ['staff_misconduct', 'Faute ou fraude du personnel', 'Staff misconduct or fraud', true],
        [
          'sea_gbv',
          'Exploitation et abus sexuels / VBG',
          'Sexual exploitation and abuse / GBV',
          true,
        ],
        ['information_request', "Demande d'information", 'Information request', false],
        ['other', 'Autre', 'Other', false],
      ].map(([code, fr, en, sensitive]) => ({
        code,
        label_fr: fr,
        label_en: en,
        sensitive,
      })) as never,
    )
    .execute()

  // SLA targets in working seconds, per case kind × category × priority (null = any); the most
  // specific active row applies and is snapshotted into a case when it opens.
  await db.schema
    .createTable('sla_policies')
    .addColumn('id', 'serial', (c) => c.primaryKey())
    .addColumn('case_kind', 'text', (c) => c.notNull())
    .addColumn('category', 'text', (c) => c.references('categories.code'))
    .addColumn('priority', 'text')
    .addColumn('targets', 'jsonb', (c) => c.notNull())
    .addColumn('at_risk_ratio', 'numeric', (c) =>
      c
        .notNull()
        .defaultTo(0.75)
        .check(sql`at_risk_ratio > 0 and at_risk_ratio < 1`),
    )
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('sla_policies_scope_key')
    .on('sla_policies')
    .unique()
    .expression(sql`case_kind, coalesce(category, ''), coalesce(priority, '')`)
    .where(sql.ref('active'), '=', true)
    .execute()
  const day = 8 * 3600 // one working day of the Malian administration, roughly
  await db
    .insertInto('sla_policies' as never)
    .values({
      case_kind: 'grievance',
      // An object, not a string: postgres.js serialises jsonb parameters itself.
      targets: {
        acknowledge: 1 * 3600,
        triage: 1 * day,
        investigation: 10 * day,
        approval: 3 * day,
        resolve: 30 * day,
        escalationRepeat: 5 * day,
        appealWindow: 30 * 24 * 3600,
      },
    } as never)
    .execute()

  // Public holidays, per year: several are lunar and change every year.
  await db.schema
    .createTable('holidays')
    .addColumn('date', 'date', (c) => c.primaryKey())
    .addColumn('name_fr', 'text', (c) => c.notNull())
    .addColumn('name_en', 'text', (c) => c.notNull())
    .addColumn('lunar', 'boolean', (c) => c.notNull().defaultTo(false))
    .execute()

  // Contact details of complainants, kept apart from the case (never in workflow ids or emails).
  await db.schema
    .createTable('complainant_contacts')
    .addColumn('case_id', 'text', (c) => c.primaryKey().references('cases.id'))
    .addColumn('email', 'text')
    .addColumn('phone', 'text')
    .addColumn('locale', 'text', (c) => c.notNull().defaultTo('fr'))
    .execute()

  await db.schema
    .createTable('case_links')
    .addColumn('from_case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('to_case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('duplicate_of', 'spawned', 'appeal_of', 'related')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addPrimaryKeyConstraint('case_links_pkey', ['from_case_id', 'to_case_id', 'kind'])
    .execute()

  await db.schema
    .alterTable('cases')
    .addColumn('reference', 'text', (c) => c.unique())
    .addColumn('satisfaction', 'text')
    .execute()
  await db.schema.alterTable('tasks').addColumn('escalation_level', 'integer').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await db.schema.alterTable('tasks').dropColumn('escalation_level').execute()
  await db.schema.alterTable('cases').dropColumn('reference').dropColumn('satisfaction').execute()
  for (const table of [
    'case_links',
    'complainant_contacts',
    'holidays',
    'sla_policies',
    'categories',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
