import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

export async function up(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('app_settings')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('value', 'jsonb', (c) => c.notNull())
    .addColumn('updated_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()

  await db.schema
    .createTable('roles')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('label_fr', 'text', (c) => c.notNull())
    .addColumn('label_en', 'text', (c) => c.notNull())
    .execute()
  await db
    .insertInto('roles' as never)
    .values([
      { code: 'case_worker', label_fr: 'Agent de traitement', label_en: 'Case worker' },
      { code: 'supervisor', label_fr: 'Superviseur', label_en: 'Supervisor' },
      {
        code: 'programme_manager',
        label_fr: 'Gestionnaire de programme',
        label_en: 'Programme manager',
      },
      { code: 'administrator', label_fr: 'Administrateur', label_en: 'Administrator' },
      { code: 'partner', label_fr: 'Partenaire', label_en: 'Partner' },
    ] as never)
    .execute()

  // Administrative geography of Mali: national → region → cercle → commune (→ village/quartier).
  await db.schema
    .createTable('admin_areas')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('parent_code', 'text', (c) => c.references('admin_areas.code'))
    .addColumn('level', 'text', (c) =>
      c.notNull().check(sql`level in ('national', 'region', 'cercle', 'commune', 'village')`),
    )
    .addColumn('name', 'text', (c) => c.notNull())
    .addCheckConstraint(
      'admin_areas_parent_unless_national',
      sql`(level = 'national') = (parent_code is null)`,
    )
    .execute()
  await db.schema
    .createIndex('admin_areas_parent_idx')
    .on('admin_areas')
    .column('parent_code')
    .execute()

  await db.schema
    .createTable('users')
    .addColumn('id', 'uuid', (c) => c.primaryKey().defaultTo(sql`gen_random_uuid()`))
    .addColumn('username', 'text', (c) => c.notNull())
    .addColumn('display_name', 'text', (c) => c.notNull())
    .addColumn('email', 'text')
    .addColumn('password_hash', 'text')
    .addColumn('locale', 'text', (c) =>
      c
        .notNull()
        .defaultTo('fr')
        .check(sql`locale in ('fr', 'en')`),
    )
    .addColumn('languages', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{fr}'`))
    // Designated focal point: may see and handle sensitive cases (SEA/GBV, misconduct).
    .addColumn('sensitive_clearance', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('on_leave', 'boolean', (c) => c.notNull().defaultTo(false))
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .addColumn('totp_secret', 'text')
    .addColumn('created_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema
    .createIndex('users_username_key')
    .on('users')
    .unique()
    .expression(sql`lower(username)`)
    .execute()

  // A role is held in an area: a supervisor of the cercle of Kati, a case worker of a commune.
  await db.schema
    .createTable('user_roles')
    .addColumn('user_id', 'uuid', (c) => c.notNull().references('users.id').onDelete('cascade'))
    .addColumn('role_code', 'text', (c) => c.notNull().references('roles.code'))
    .addColumn('area_code', 'text', (c) => c.notNull().references('admin_areas.code'))
    .addPrimaryKeyConstraint('user_roles_pkey', ['user_id', 'role_code', 'area_code'])
    .execute()
  await db.schema
    .createIndex('user_roles_area_role_idx')
    .on('user_roles')
    .columns(['area_code', 'role_code'])
    .execute()

  await db.schema
    .createTable('partners')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) =>
      c.notNull().check(sql`kind in ('government', 'un_agency', 'ngo', 'health', 'other')`),
    )
    .addColumn('contact_email', 'text')
    .addColumn('active', 'boolean', (c) => c.notNull().defaultTo(true))
    .execute()
  await db.schema
    .createTable('services')
    .addColumn('code', 'text', (c) => c.primaryKey())
    .addColumn('label_fr', 'text', (c) => c.notNull())
    .addColumn('label_en', 'text', (c) => c.notNull())
    .execute()
  await db.schema
    .createTable('partner_services')
    .addColumn('partner_code', 'text', (c) => c.notNull().references('partners.code'))
    .addColumn('service_code', 'text', (c) => c.notNull().references('services.code'))
    .addColumn('area_code', 'text', (c) => c.notNull().references('admin_areas.code'))
    .addPrimaryKeyConstraint('partner_services_pkey', ['partner_code', 'service_code', 'area_code'])
    .execute()

  // Local cache of registry households: identifiers and scores only, no names.
  await db.schema
    .createTable('households')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('area_code', 'text', (c) => c.notNull().references('admin_areas.code'))
    .addColumn('members', 'integer', (c) => c.notNull().check(sql`members > 0`))
    .addColumn('pmt_score', 'numeric')
    .addColumn('programmes', sql`text[]`, (c) => c.notNull().defaultTo(sql`'{}'`))
    .addColumn('fetched_at', 'timestamptz', (c) => c.notNull().defaultTo(sql`now()`))
    .execute()
  await db.schema.createIndex('households_area_idx').on('households').column('area_code').execute()
}

export async function down(db: Kysely<unknown>): Promise<void> {
  for (const table of [
    'households',
    'partner_services',
    'services',
    'partners',
    'user_roles',
    'users',
    'admin_areas',
    'roles',
    'app_settings',
  ]) {
    await db.schema.dropTable(table).execute()
  }
}
