import { Migrator, sql } from 'kysely'
import { afterEach, describe, expect, it } from 'vitest'
import { migrateToLatest } from '../../activities/db/migrate'
import { createRegistryClient } from '../../activities/registry'
import { retentionSettings } from '../../activities/retention/anonymise'
import { createReverificationActivities } from '../../activities/reverification'
import { migrations } from '../../migrations'
import { createTestDatabase, type TestDatabase } from '../helpers/db'

let tdb: TestDatabase | undefined
afterEach(async () => {
  await tdb?.drop()
  tdb = undefined
})

const FIVE_YEARS = 5 * 365 * 24 * 3600

/**
 * Each setting a migration creates, read by the code that consumes it, as a worker would at run
 * time. A migration that adds a setting adds its consumer here (the key list below fails
 * otherwise).
 */
const consumers: Record<string, (db: TestDatabase['db']) => Promise<unknown>> = {
  retention: (db) => retentionSettings(db),
  reverification_policy: (db) =>
    createReverificationActivities({
      db,
      registry: createRegistryClient(undefined, db),
    }).loadReverificationPolicy(),
}

const settings = async (db: TestDatabase['db']) =>
  (
    await sql<{ key: string; type: string }>`
      select key, jsonb_typeof(value) as type from app_settings order by key`.execute(db)
  ).rows

describe('the settings the migrations create', () => {
  it('are each read by their consumer on a database built by the migrations alone', async () => {
    tdb = await createTestDatabase()
    const rows = await settings(tdb.db)
    expect(rows.map((r) => r.key)).toEqual(Object.keys(consumers).sort())
    // Objects, as their consumers read them (a JSON string is not a setting).
    expect(rows.filter((r) => r.type !== 'object')).toEqual([])
    expect(await consumers.retention!(tdb.db)).toEqual({ closedCaseSeconds: FIVE_YEARS })
    expect(await consumers.reverification_policy!(tdb.db)).toEqual({
      maxVisitAttempts: 3,
      revisitDelayMs: 2 * 24 * 3600 * 1000,
    })
  })

  it('repair a retention setting stored as a JSON string by an earlier migration', async () => {
    tdb = await createTestDatabase({ migrate: false })
    // The database as it was before the repair: migrated up to the migration before it.
    const names = Object.keys(migrations)
    const before = names[names.indexOf('2026_12_04_000100_repair_retention_setting') - 1]!
    const migrator = new Migrator({
      db: tdb.db,
      provider: { getMigrations: async () => migrations },
      migrationTableName: 'kysely_migration',
      migrationLockTableName: 'kysely_migration_lock',
    })
    expect((await migrator.migrateTo(before)).error).toBeUndefined()
    expect(await settings(tdb.db)).toContainEqual({ key: 'retention', type: 'string' })
    await expect(retentionSettings(tdb.db)).rejects.toThrow(/missing or invalid/)

    await migrateToLatest(tdb.db)
    expect(await settings(tdb.db)).toContainEqual({ key: 'retention', type: 'object' })
    expect(await retentionSettings(tdb.db)).toEqual({ closedCaseSeconds: FIVE_YEARS })
  })
})
