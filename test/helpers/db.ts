import { randomBytes } from 'node:crypto'
import postgres from 'postgres'
import { inject } from 'vitest'
import { createDb, type Db } from '../../activities/db/db'
import { migrateToLatest } from '../../activities/db/migrate'

export interface TestDatabase {
  url: string
  db: Db
  drop(): Promise<void>
}

/**
 * A fresh database on the run's PostgreSQL, migrated unless `migrate: false`. Each test file gets
 * its own, so files never see each other's rows.
 */
export async function createTestDatabase({ migrate = true } = {}): Promise<TestDatabase> {
  const serverUrl = inject('databaseUrl')
  const name = `t_${randomBytes(6).toString('hex')}`
  const admin = postgres(serverUrl, { max: 1, onnotice: () => {} })
  await admin.unsafe(`create database ${name}`)
  const url = new URL(serverUrl)
  url.pathname = `/${name}`
  const db = createDb(url.toString(), { max: 5 })
  if (migrate) await migrateToLatest(db)
  return {
    url: url.toString(),
    db,
    async drop() {
      await db.destroy()
      await admin.unsafe(`drop database if exists ${name} with (force)`)
      await admin.end()
    },
  }
}
