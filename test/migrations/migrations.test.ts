import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { migrateDownAll, migrateToLatest, pendingMigrations } from '../../activities/db/migrate'
import { migrations } from '../../migrations'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedGeography } from '../helpers/fixtures'

let tdb: TestDatabase
beforeAll(async () => {
  tdb = await createTestDatabase({ migrate: false })
})
afterAll(() => tdb?.drop())

const tables = async () =>
  (
    await sql<{ tablename: string }>`
      select tablename from pg_tables where schemaname = 'public' order by tablename`.execute(
      tdb.db,
    )
  ).rows.map((r) => r.tablename)

describe('migrations', () => {
  it('go up on an empty database, down to nothing, and up again', async () => {
    expect(await tables()).toEqual([])
    expect(await migrateToLatest(tdb.db)).toEqual(Object.keys(migrations))
    expect(await pendingMigrations(tdb.db)).toEqual([])
    expect(await tables()).toEqual(
      expect.arrayContaining([
        'admin_areas',
        'case_events',
        'cases',
        'notification_outbox',
        'roles',
        'tasks',
        'user_roles',
        'users',
      ]),
    )
    // A second run is a no-op (every process start runs it).
    expect(await migrateToLatest(tdb.db)).toEqual([])

    expect(await migrateDownAll(tdb.db)).toEqual(Object.keys(migrations).reverse())
    expect((await tables()).filter((t) => !t.startsWith('kysely_'))).toEqual([])
    expect(await pendingMigrations(tdb.db)).toEqual(Object.keys(migrations))

    expect(await migrateToLatest(tdb.db)).toEqual(Object.keys(migrations))
  })

  it('make case_events append-only for every role, the table owner included', async () => {
    await migrateToLatest(tdb.db)
    await seedGeography(tdb.db)
    await tdb.db
      .insertInto('cases')
      .values({
        id: 'G-append',
        workflowId: 'case-G-append',
        kind: 'grievance',
        stage: 'uptake',
        areaCode: 'ML-2-KATI-KATI',
        category: null,
        channel: null,
        openedAt: new Date(),
        closedAt: null,
        parentCaseId: null,
        householdId: null,
        ackDueAt: null,
        resolveDueAt: null,
        lastEventSeq: 1,
      })
      .execute()
    await tdb.db
      .insertInto('caseEvents')
      .values({
        caseId: 'G-append',
        workflowId: 'case-G-append',
        seq: 1,
        type: 'case.opened',
        actorId: null,
        actorRole: 'public',
        occurredAt: new Date(),
        before: null,
        after: {},
        data: null,
      })
      .execute()

    const refused = { code: '42501', message: expect.stringContaining('append-only') }
    await expect(
      tdb.db.updateTable('caseEvents').set({ type: 'case.tampered' }).execute(),
    ).rejects.toMatchObject(refused)
    await expect(tdb.db.deleteFrom('caseEvents').execute()).rejects.toMatchObject(refused)
    await expect(sql`truncate case_events cascade`.execute(tdb.db)).rejects.toMatchObject(refused)
    const rows = await tdb.db.selectFrom('caseEvents').select('type').execute()
    expect(rows).toEqual([{ type: 'case.opened' }])
  })

  it('seed the roles of the product', async () => {
    const roles = await tdb.db.selectFrom('roles').select('code').orderBy('code').execute()
    expect(roles.map((r) => r.code)).toEqual([
      'administrator',
      'case_worker',
      'partner',
      'programme_manager',
      'supervisor',
    ])
  })
})
