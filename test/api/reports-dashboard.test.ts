import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import { reportsRoutes } from '../../api/routes/reports'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'

// The console's dashboard asks for the backlog by age and drills a chart down to one region,
// category or channel: the same report, suppression and scope as every other aggregate.

let tdb: TestDatabase
let app: ReturnType<typeof appSignedInByHeader>

const KATI = 'ML-2-KATI-KATI'
const KAYES = 'ML-1-KAYES-KAYES'
const daysAgo = (n: number) => new Date(Date.now() - n * 86_400_000)

type Row = { key: string | null; cases: number | null; closed: number | null; suppressed: boolean }
const report = async (user: string, query: string) => {
  const res = await app.request(`/api/reports/cases?${query}`, { headers: { 'x-test-user': user } })
  return { status: res.status, rows: res.ok ? ((await res.json()) as { rows: Row[] }).rows : [] }
}
const cell = (rows: Row[], key: string) => rows.find((r) => r.key === key)

async function seed(db: Db) {
  const base = {
    kind: 'grievance' as const,
    stage: 'investigation',
    category: 'payment_not_received',
    channel: 'hotline',
    lastEventSeq: 1,
    ackDueAt: null,
    resolveDueAt: null,
    parentCaseId: null,
    householdId: null,
    closedAt: null,
    reference: null,
    satisfaction: null,
  }
  const rows = [
    // Kati: 4 open for 2 days, 3 open for 45 days, 3 closed (closed ones are not backlog).
    ...[0, 1, 2, 3].map((i) => ({
      ...base,
      id: `G-new-${i}`,
      areaCode: KATI,
      openedAt: daysAgo(2),
    })),
    ...[0, 1, 2].map((i) => ({
      ...base,
      id: `G-old-${i}`,
      areaCode: KATI,
      channel: 'in_person',
      openedAt: daysAgo(45),
    })),
    ...[0, 1, 2].map((i) => ({
      ...base,
      id: `G-done-${i}`,
      areaCode: KATI,
      status: 'closed',
      slaState: 'met',
      openedAt: daysAgo(40),
      closedAt: daysAgo(30),
    })),
    // Kayes: one case open for 100 days, a cell below the threshold.
    { ...base, id: 'G-kayes-0', areaCode: KAYES, category: 'wrong_amount', openedAt: daysAgo(100) },
  ]
  await db
    .insertInto('cases')
    .values(rows.map((r) => ({ ...r, workflowId: `case-${r.id}` })))
    .execute()
}

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  await seed(tdb.db)
  app = appSignedInByHeader(tdb.db, (api) => api.route('/api', reportsRoutes({ db: tdb.db })))
})
afterAll(() => tdb?.drop())

describe('the backlog by age', () => {
  it('counts the open cases by days waiting, suppressing a small bucket', async () => {
    const { status, rows } = await report('gestionnaire', 'groupBy=age')
    expect(status).toBe(200)
    expect(cell(rows, '0-7')).toMatchObject({ cases: 4, suppressed: false })
    // The case open for 100 days is alone in its bucket: no count is shown; and since the total
    // backlog is public, the smallest other bucket (3) is hidden with it (8 − 4 − 3 = 1).
    expect(cell(rows, '91+')).toMatchObject({ cases: null, suppressed: true })
    expect(cell(rows, '31-90')).toMatchObject({ cases: null, suppressed: true })
    // Closed cases are not backlog: no bucket holds the three closed 30 days ago.
    expect(rows.reduce((n, r) => n + (r.cases ?? 0), 0)).toBe(4)
  })

  it('is scoped to the areas of the supervisor asking', async () => {
    const { rows } = await report('superviseur.cercle.kati', 'groupBy=age')
    expect(cell(rows, '91+')).toBeUndefined()
    expect(cell(rows, '0-7')).toMatchObject({ cases: 4 })
  })
})

describe('drilling down', () => {
  it('narrows a report to one area, category or channel', async () => {
    const kayes = await report('gestionnaire', `groupBy=category&areaCode=ML-1`)
    expect(kayes.rows.map((r) => r.key)).toEqual(['wrong_amount'])
    const byChannel = await report('gestionnaire', 'groupBy=month&channel=in_person')
    expect(byChannel.rows.reduce((n, r) => n + (r.cases ?? 0), 0)).toBe(3)
    const byCategory = await report('gestionnaire', 'groupBy=region&category=payment_not_received')
    expect(cell(byCategory.rows, 'ML-2')).toMatchObject({ cases: 10, closed: 3 })
  })

  it('refuses a malformed filter with the query error and its field', async () => {
    const res = await app.request("/api/reports/cases?groupBy=month&channel=x'or", {
      headers: { 'x-test-user': 'gestionnaire' },
    })
    expect(res.status).toBe(400)
    const body = (await res.json()) as { error: { code: string; details: { path: string }[] } }
    expect(body.error.code).toBe('INVALID_QUERY')
    expect(body.error.details.map((d) => d.path)).toContain('channel')
  })
})

describe('the export permission', () => {
  it('tells the console whether to show the CSV buttons, as granted now', async () => {
    const ask = async () =>
      (
        await app.request('/api/reports/export-permission', {
          headers: { 'x-test-user': 'gestionnaire' },
        })
      ).json()
    await sql`update users set can_export = false where username = 'gestionnaire'`.execute(tdb.db)
    expect(await ask()).toEqual({ canExport: false })
    await sql`update users set can_export = true where username = 'gestionnaire'`.execute(tdb.db)
    expect(await ask()).toEqual({ canExport: true })
  })
})
