import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ensureRecertificationSchedule } from '../../activities/reverification-schedule'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let scheduleId: string | undefined

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
  // No REGISTRY_URL: the households table is the registry.
  worker = await startRegistryWorker(tdb.db, { client })
})
afterAll(async () => {
  if (scheduleId)
    await client.schedule
      .getHandle(scheduleId)
      .delete()
      .catch(() => undefined)
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
})

const reverifications = () =>
  tdb.db
    .selectFrom('cases')
    .select(['id', 'householdId'])
    .where('kind', '=', 'reverification')
    .execute()

describe('the recertification schedule', () => {
  it('is created once, and its sweeps re-verify due households without starting any twice', async () => {
    // A household re-scored recently is not due.
    const recent = await tdb.db
      .insertInto('cases')
      .values({
        id: 'RV-recent',
        workflowId: 'case-RV-recent',
        kind: 'reverification',
        stage: 'closed',
        status: 'closed',
        areaCode: 'ML-2-KATI-KATI',
        category: null,
        channel: null,
        openedAt: new Date(),
        closedAt: new Date(),
        parentCaseId: null,
        householdId: 'RSU-0000003',
        ackDueAt: null,
        resolveDueAt: null,
        lastEventSeq: 1,
        reference: null,
        satisfaction: null,
      })
      .returning('id')
      .executeTakeFirstOrThrow()
    await tdb.db
      .insertInto('householdScores')
      .values({
        caseId: recent.id,
        visitNo: 1,
        householdId: 'RSU-0000003',
        score: 17,
        formulaVersion: 'pmt-2026-v1',
        eligible: true,
        scoredAt: new Date(),
      })
      .execute()
    const households = await tdb.db.selectFrom('households').select('id').execute()
    const options = {
      taskQueue: worker.taskQueue,
      every: '2 seconds',
      periodMs: 3_600_000,
      limit: households.length,
    }
    const first = await ensureRecertificationSchedule(client, options)
    scheduleId = first.scheduleId
    expect(first.created).toBe(true)
    expect((await ensureRecertificationSchedule(client, options)).created).toBe(false)

    const due = households.length - 1
    const started = await eventually(
      async () => {
        const rows = await reverifications()
        return rows.length >= due + 1 ? rows : undefined
      },
      { what: 'every due household re-verified', timeoutMs: 60_000 },
    )
    // Let a few more sweeps run: none starts a second case for a household.
    const describe = await client.schedule.getHandle(first.scheduleId).describe()
    const runsBefore = describe.info.numActionsTaken
    await eventually(
      async () => {
        const d = await client.schedule.getHandle(first.scheduleId).describe()
        return d.info.numActionsTaken >= runsBefore + 2 ? true : undefined
      },
      { what: 'two more sweeps', timeoutMs: 30_000 },
    )
    const rows = await reverifications()
    expect(rows.length).toBe(started.length)
    const perHousehold = new Map<string, number>()
    for (const r of rows)
      perHousehold.set(r.householdId!, (perHousehold.get(r.householdId!) ?? 0) + 1)
    expect([...perHousehold.values()].every((n) => n === 1)).toBe(true)
  })
})
