import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * Household re-verification: the versioned proxy-means-test formulas, the scores they gave,
 * the registry writes (recorded before and after the call, keyed by an idempotency key, so that a
 * retried write reaches the registry once), and campaigns uploaded as CSV with one row per line.
 * Households gain their eligibility and the formula version of their score.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .alterTable('households')
    .addColumn('eligible', 'boolean')
    .addColumn('pmt_formula_version', 'text')
    .execute()

  await db.schema
    .createTable('pmt_formulas')
    .addColumn('version', 'text', (c) => c.primaryKey())
    // { intercept: number, weights: { variable: weight } }
    .addColumn('coefficients', 'jsonb', (c) => c.notNull())
    // Eligible when the score is at or below the threshold (a lower score is poorer).
    .addColumn('threshold', 'numeric', (c) => c.notNull())
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  // One formula in force at a time.
  await db.schema
    .createIndex('pmt_formulas_one_active')
    .on('pmt_formulas')
    .column('active')
    .unique()
    .where(sql.ref('active'), '=', true)
    .execute()
  await db
    .insertInto('pmt_formulas' as never)
    .values({
      version: 'pmt-2026-v1',
      coefficients: {
        intercept: 40,
        weights: {
          members: -2,
          children_under_5: -1.5,
          rooms: 1.5,
          improved_roof: 4,
          livestock_units: 0.8,
          head_years_of_schooling: 0.6,
        },
      },
      threshold: 25,
      active: true,
    } as never)
    .execute()

  await db.schema
    .createTable('household_scores')
    .addColumn('case_id', 'text', (c) => c.notNull().references('cases.id'))
    .addColumn('visit_no', 'integer', (c) => c.notNull())
    .addColumn('household_id', 'text', (c) => c.notNull())
    .addColumn('score', 'numeric', (c) => c.notNull())
    .addColumn('formula_version', 'text', (c) => c.notNull().references('pmt_formulas.version'))
    .addColumn('eligible', 'boolean', (c) => c.notNull())
    .addColumn('scored_at', 'timestamptz', (c) => c.notNull())
    .addPrimaryKeyConstraint('household_scores_pkey', ['case_id', 'visit_no'])
    .execute()

  await db.schema
    .createTable('registry_writes')
    .addColumn('idempotency_key', 'text', (c) => c.primaryKey())
    .addColumn('case_id', 'text', (c) => c.notNull())
    .addColumn('household_id', 'text', (c) => c.notNull())
    .addColumn('payload', 'jsonb', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('pending')
        .check(sql`status in ('pending', 'sent', 'rejected')`),
    )
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('last_error', 'text')
    .addColumn('response', 'jsonb')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('sent_at', 'timestamptz')
    .execute()
  await db.schema
    .createIndex('registry_writes_case_idx')
    .on('registry_writes')
    .column('case_id')
    .execute()

  await db.schema
    .createTable('campaigns')
    .addColumn('id', 'text', (c) => c.primaryKey())
    // The same file uploaded twice is the same campaign.
    .addColumn('content_hash', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('created_by', 'uuid', (c) => c.references('users.id'))
    .addColumn('task_queue', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) =>
      c
        .notNull()
        .defaultTo('starting')
        .check(sql`status in ('starting', 'started')`),
    )
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .addColumn('finished_at', 'timestamptz')
    .execute()
  await db.schema
    .createTable('campaign_lines')
    .addColumn('campaign_id', 'text', (c) => c.notNull().references('campaigns.id'))
    .addColumn('line_no', 'integer', (c) => c.notNull())
    .addColumn('household_id', 'text')
    .addColumn('area_code', 'text')
    .addColumn('case_id', 'text')
    .addColumn('status', 'text', (c) =>
      c.notNull().check(sql`status in ('pending', 'started', 'failed')`),
    )
    .addColumn('error_code', 'text')
    .addColumn('error_message', 'text')
    .addPrimaryKeyConstraint('campaign_lines_pkey', ['campaign_id', 'line_no'])
    .execute()
  await db.schema
    .createIndex('campaign_lines_status_idx')
    .on('campaign_lines')
    .columns(['campaign_id', 'status', 'line_no'])
    .execute()

  await db
    .insertInto('sla_policies' as never)
    .values({
      case_kind: 'reverification',
      targets: {
        acknowledge: 8 * 3600,
        triage: 8 * 3600,
        investigation: 10 * 8 * 3600,
        approval: 3 * 8 * 3600,
        resolve: 40 * 8 * 3600,
        escalationRepeat: 5 * 8 * 3600,
        appealWindow: 30 * 24 * 3600,
      },
    } as never)
    .execute()
  await db
    .insertInto('app_settings' as never)
    .values({
      key: 'reverification_policy',
      // Visits before a household is declared unreachable; wait before a revisit (seconds).
      value: { maxVisitAttempts: 3, revisitDelaySeconds: 2 * 24 * 3600 },
    } as never)
    .execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`delete from app_settings where key = 'reverification_policy'`.execute(db)
  await sql`delete from sla_policies where case_kind = 'reverification'`.execute(db)
  for (const table of [
    'campaign_lines',
    'campaigns',
    'registry_writes',
    'household_scores',
    'pmt_formulas',
  ]) {
    await db.schema.dropTable(table).execute()
  }
  await db.schema
    .alterTable('households')
    .dropColumn('eligible')
    .dropColumn('pmt_formula_version')
    .execute()
}
