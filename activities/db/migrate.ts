import { Migrator, NO_MIGRATIONS, type MigrationResultSet } from 'kysely'
import { migrations } from '../../migrations'
import type { Db } from './db'
import { StartupError } from '../infra/errors'

function migrator(db: Db): Migrator {
  return new Migrator({
    // Migrations take `Kysely<any>`: they are written against the untyped schema they define.
    db,
    provider: { getMigrations: async () => migrations },
    migrationTableName: 'kysely_migration',
    migrationLockTableName: 'kysely_migration_lock',
  })
}

function check(result: MigrationResultSet, direction: string): string[] {
  if (result.error) {
    const failed = result.results?.find((r) => r.status === 'Error')?.migrationName
    const message = result.error instanceof Error ? result.error.message : String(result.error)
    throw new StartupError(
      'MIGRATION_FAILED',
      `database migration ${direction} failed${failed ? ` at ${failed}` : ''}: ${message}`,
    )
  }
  return (result.results ?? []).map((r) => r.migrationName)
}

/**
 * Brings the schema to the newest migration; returns the names applied now. Kysely's migration
 * lock makes concurrent starts (several API or worker processes) apply each migration once.
 */
export async function migrateToLatest(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateToLatest(), 'up')
}

/** Undoes every migration (an empty schema); for tests and for a developer starting over. */
export async function migrateDownAll(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateTo(NO_MIGRATIONS), 'down')
}

/** Names of migrations not yet applied: a process that does not migrate refuses to run on them. */
export async function pendingMigrations(db: Db): Promise<string[]> {
  const all = await migrator(db).getMigrations()
  return all.filter((m) => !m.executedAt).map((m) => m.name)
}

/** Undoes the newest migration only. */
export async function migrateDownOne(db: Db): Promise<string[]> {
  return check(await migrator(db).migrateDown(), 'down')
}
