import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import { csvField, reportsRoutes, suppress, toCsv } from '../../api/routes/reports'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases, userId } from '../helpers/fixtures'

let tdb: TestDatabase

function buildApp(db: Db, minCell?: number) {
  return appSignedInByHeader(db, (api) => {
    api.route('/api', reportsRoutes({ db, ...(minCell === undefined ? {} : { minCell }) }))
  })
}

let app: ReturnType<typeof buildApp>
let appMin1: ReturnType<typeof buildApp>

const get = (path: string, user: string, on = app) =>
  on.request(path, { headers: { 'x-test-user': user } })

/** An RFC 4180 reader written independently of the code under test. */
function parseCsv(text: string): string[][] {
  const rows: string[][] = []
  let row: string[] = []
  let field = ''
  let quoted = false
  const s = text.replace(/^\uFEFF/, '')
  for (let i = 0; i < s.length; i++) {
    const ch = s[i]!
    if (quoted) {
      if (ch === '"' && s[i + 1] === '"') {
        field += '"'
        i++
      } else if (ch === '"') quoted = false
      else field += ch
    } else if (ch === '"') quoted = true
    else if (ch === ',') {
      row.push(field)
      field = ''
    } else if (ch === '\r' && s[i + 1] === '\n') {
      row.push(field)
      rows.push(row)
      row = []
      field = ''
      i++
    } else field += ch
  }
  if (field !== '' || row.length) rows.push([...row, field])
  return rows
}

type Row = {
  key: string | null
  label: string | null
  cases: number | null
  open: number | null
  closed: number | null
  resolvedOnTime: number | null
  breached: number | null
  escalated: number | null
  medianDaysToClosure: number | null
  suppressed: boolean
}
const report = async (user: string, query: string, on = app) => {
  const res = await get(`/api/reports/cases?${query}`, user, on)
  const body = (await res.json()) as { rows: Row[]; minCell: number }
  return { status: res.status, body }
}
const rowOf = (rows: Row[], key: string) => rows.find((r) => r.key === key)

const exportsBy = async (username: string) =>
  (
    await sql<{ action: string; rowCount: number; exportKind: string; role: string | null }>`
      select action, row_count, export_kind, role from access_audit
      where user_id = ${await userId(tdb.db, username)} and action = 'export' order by id`.execute(
      tdb.db,
    )
  ).rows
const grantExport = async (username: string) =>
  sql`update users set can_export = true where username = ${username}`.execute(tdb.db)

const KATI = 'ML-2-KATI-KATI'
const KAYES = 'ML-1-KAYES-KAYES'
const CANARY = {
  reference: 'RSU-CANARY-REF-7731',
  household: 'HH-CANARY-4410',
  email: 'canary.plaignant@example.org',
  phone: '+223 70 00 77 31',
  narrative: 'CANARY-NARRATIVE mon voisin a pris mon argent',
}
const day = (d: string, plusDays = 0) =>
  new Date(Date.parse(`${d}T08:00:00Z`) + plusDays * 86_400_000)

/**
 * Kati (cercle ML-2-KATI): 6 cases opened in January 2026 — 3 closed on time after 2, 4 and 10
 * days (median 4), 3 open, breached and escalated — plus one sensitive case that only a focal point
 * counts. Kayes (cercle ML-1-KAYES): 2 cases opened in February, a cell below the threshold.
 */
async function seedCases(db: Db) {
  await db
    .insertInto('categories')
    .values({ code: 'csv_test', labelFr: 'Paiement, "non" reçu\nsur deux lignes', labelEn: 'X' })
    .execute()
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
    ...[2, 4, 10].map((d, i) => ({
      ...base,
      id: `G-kati-c${i}`,
      areaCode: KATI,
      status: 'closed',
      stage: 'closed',
      slaState: 'met',
      openedAt: day('2026-01-05'),
      closedAt: day('2026-01-05', d),
    })),
    ...[0, 1, 2].map((i) => ({
      ...base,
      id: `G-kati-o${i}`,
      areaCode: KATI,
      slaState: 'breached',
      escalationLevel: 1,
      openedAt: day('2026-01-20'),
      resolveDueAt: day('2026-01-25'),
      ...(i === 0 ? { reference: CANARY.reference, householdId: null } : {}),
    })),
    {
      ...base,
      id: 'G-kati-sens',
      areaCode: KATI,
      category: 'sea_gbv',
      sensitive: true,
      openedAt: day('2026-01-21'),
    },
    ...[0, 1].map((i) => ({
      ...base,
      id: `G-kayes-${i}`,
      areaCode: KAYES,
      category: 'csv_test',
      channel: i === 0 ? 'sms' : 'hotline',
      openedAt: day('2026-02-03'),
    })),
  ]
  await db
    .insertInto('cases')
    .values(rows.map((r) => ({ ...r, workflowId: `case-${r.id}` })))
    .execute()
  await db
    .insertInto('households')
    .values({ id: CANARY.household, areaCode: KATI, members: 5, pmtScore: 12 })
    .execute()
  await db
    .updateTable('cases')
    .set({ householdId: CANARY.household })
    .where('id', '=', 'G-kati-o1')
    .execute()
  await db
    .insertInto('complainantContacts')
    .values({ caseId: 'G-kati-o0', email: CANARY.email, phone: CANARY.phone })
    .execute()
  await db
    .insertInto('caseEvents')
    .values({
      caseId: 'G-kati-o0',
      workflowId: 'case-G-kati-o0',
      seq: 1,
      type: 'opened',
      actorId: null,
      actorRole: null,
      occurredAt: day('2026-01-20'),
      before: null,
      after: null,
      data: { narrative: CANARY.narrative },
    })
    .execute()
}

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  await seedCases(tdb.db)
  app = buildApp(tdb.db)
  appMin1 = buildApp(tdb.db, 1)
})
afterAll(() => tdb?.drop())

describe('GET /reports/cases', () => {
  it('counts a cercle and suppresses the cell of 2 (null + suppressed, no median)', async () => {
    const { status, body } = await report('gestionnaire', 'groupBy=cercle')
    expect(status).toBe(200)
    expect(body.minCell).toBe(3)
    // Kati's counts that would give Kayes' back from the national total are hidden with it.
    expect(rowOf(body.rows, 'ML-2-KATI')).toEqual({
      key: 'ML-2-KATI',
      label: 'Kati',
      cases: null,
      open: null,
      closed: null,
      resolvedOnTime: 3,
      breached: 3,
      escalated: 3,
      medianDaysToClosure: null,
      suppressed: true,
    })
    expect(
      rowOf((await report('gestionnaire', 'groupBy=cercle', appMin1)).body.rows, 'ML-2-KATI'),
    ).toEqual({
      key: 'ML-2-KATI',
      label: 'Kati',
      cases: 6,
      open: 3,
      closed: 3,
      resolvedOnTime: 3,
      breached: 3,
      escalated: 3,
      medianDaysToClosure: 4,
      suppressed: false,
    })
    expect(rowOf(body.rows, 'ML-1-KAYES')).toEqual({
      key: 'ML-1-KAYES',
      label: 'Kayes',
      cases: null,
      open: null,
      closed: null,
      resolvedOnTime: null,
      breached: null,
      escalated: null,
      medianDaysToClosure: null,
      suppressed: true,
    })
    expect(body.rows).toHaveLength(2)
  })

  it('shows the 2 when the threshold is 1: the suppression is what hid it', async () => {
    const { body } = await report('gestionnaire', 'groupBy=cercle', appMin1)
    expect(rowOf(body.rows, 'ML-1-KAYES')).toMatchObject({
      cases: 2,
      open: 2,
      closed: 0,
      suppressed: false,
    })
  })

  it('groups by region through the area paths, by month, channel and category', async () => {
    const regions = (await report('gestionnaire', 'groupBy=region', appMin1)).body.rows
    expect(rowOf(regions, 'ML-2')).toMatchObject({ label: 'Koulikoro', cases: 6 })
    expect(rowOf(regions, 'ML-1')).toMatchObject({ cases: 2 })
    const suppressedRegions = (await report('gestionnaire', 'groupBy=region')).body.rows
    expect(rowOf(suppressedRegions, 'ML-1')).toMatchObject({ cases: null, suppressed: true })
    // The only other region is the complement: 8 − 6 would give Kayes' 2 back.
    expect(rowOf(suppressedRegions, 'ML-2')).toMatchObject({ cases: null, suppressed: true })

    const months = (await report('gestionnaire', 'groupBy=month', appMin1)).body.rows
    expect(months.map((r) => [r.key, r.cases])).toEqual([
      ['2026-01', 6],
      ['2026-02', 2],
    ])
    const feb = (
      await report('gestionnaire', 'groupBy=month&from=2026-02-01&to=2026-02-28', appMin1)
    ).body.rows
    expect(feb.map((r) => r.key)).toEqual(['2026-02'])

    // 7 hotline cases, 1 by SMS: the SMS cell of 1 is suppressed, and the hotline's 7 with it
    // (the total of 8 minus 7 would give it back).
    const channels = (await report('gestionnaire', 'groupBy=channel')).body.rows
    expect(rowOf(channels, 'hotline')).toMatchObject({ cases: null, suppressed: true })
    expect(rowOf(channels, 'sms')).toMatchObject({ cases: null, suppressed: true })
    const channelsMin1 = (await report('gestionnaire', 'groupBy=channel', appMin1)).body.rows
    expect(rowOf(channelsMin1, 'hotline')).toMatchObject({ cases: 7, suppressed: false })

    const categories = (await report('gestionnaire', 'groupBy=category&lang=en', appMin1)).body.rows
    expect(rowOf(categories, 'payment_not_received')).toMatchObject({ cases: 6 })
    const small = (await report('gestionnaire', 'groupBy=category&lang=en')).body.rows
    expect(rowOf(small, 'csv_test')).toMatchObject({ label: 'X', cases: null })
    // The sensitive case is not among the cases a manager without clearance may see.
    expect(rowOf(categories, 'sea_gbv')).toBeUndefined()
  })

  it('suppresses a single small cell in a large row, and its open/closed complement', async () => {
    // Kati has 3 breached (shown); a row where 1 of 6 is escalated hides that cell only.
    await tdb.db
      .updateTable('cases')
      .set({ escalationLevel: 0 })
      .where('id', 'in', ['G-kati-o1', 'G-kati-o2'])
      .execute()
    try {
      const kati = rowOf((await report('gestionnaire', 'groupBy=cercle')).body.rows, 'ML-2-KATI')
      expect(kati).toMatchObject({
        breached: 3,
        escalated: null,
        medianDaysToClosure: null,
        suppressed: true,
      })
    } finally {
      await tdb.db
        .updateTable('cases')
        .set({ escalationLevel: 1 })
        .where('id', 'in', ['G-kati-o1', 'G-kati-o2'])
        .execute()
    }
    expect(
      suppress(
        {
          key: 'x',
          label: 'x',
          cases: 10,
          open: 8,
          closed: 2,
          resolvedOnTime: 0,
          breached: 0,
          escalated: 5,
          medianDays: 3,
        },
        3,
      ),
    ).toMatchObject({ cases: 10, open: null, closed: null, resolvedOnTime: 0, escalated: 5 })
  })

  it("counts only the supervisor's own area", async () => {
    const cercles = (await report('superviseur.cercle.kati', 'groupBy=cercle')).body.rows
    expect(cercles.map((r) => [r.key, r.cases])).toEqual([['ML-2-KATI', 6]])
    const byKayes = (await report('superviseur.cercle.kayes', 'groupBy=cercle', appMin1)).body.rows
    expect(byKayes.map((r) => [r.key, r.cases])).toEqual([['ML-1-KAYES', 2]])
    // A case worker role held elsewhere does not widen the report: only the supervised area.
    const id = await userId(tdb.db, 'superviseur.cercle.kati')
    await tdb.db
      .insertInto('userRoles')
      .values({ userId: id, roleCode: 'case_worker', areaCode: KAYES })
      .execute()
    try {
      const mixed = (await report('superviseur.cercle.kati', 'groupBy=cercle', appMin1)).body.rows
      expect(mixed.map((r) => [r.key, r.cases])).toEqual([['ML-2-KATI', 6]])
    } finally {
      await tdb.db
        .deleteFrom('userRoles')
        .where('userId', '=', id)
        .where('areaCode', '=', KAYES)
        .execute()
    }
    // A regional focal point with clearance counts the sensitive case too.
    const cleared = (await report('superviseur.region.koulikoro', 'groupBy=cercle')).body.rows
    expect(cleared.map((r) => [r.key, r.cases])).toEqual([['ML-2-KATI', 7]])
  })

  it('is refused to case workers and administrators, and validates groupBy', async () => {
    for (const user of ['agent.kati.1', 'admin']) {
      const res = await get('/api/reports/cases?groupBy=cercle', user)
      expect(res.status).toBe(403)
      expect(((await res.json()) as { error: { code: string } }).error.code).toBe('FORBIDDEN')
    }
    const bad = await get('/api/reports/cases?groupBy=household', 'gestionnaire')
    expect(bad.status).toBe(400)
  })
})

describe('GET /exports/cases.csv', () => {
  it('is refused without the export permission, and nothing is audited as an export', async () => {
    const res = await get('/api/exports/cases.csv', 'superviseur.cercle.kati')
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'EXPORT_NOT_ALLOWED',
    )
    expect(await exportsBy('superviseur.cercle.kati')).toEqual([])
  })

  it('with can_export: the visible cases as CSV, codes and dates only, one audit row each', async () => {
    await grantExport('gestionnaire')
    const res = await get('/api/exports/cases.csv', 'gestionnaire')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-type')).toBe('text/csv; charset=utf-8')
    expect(res.headers.get('content-disposition')).toMatch(/^attachment; filename="dossiers-/)
    const text = await res.text()
    const [header, ...lines] = parseCsv(text)
    expect(header).toEqual([
      'Identifiant',
      'Type',
      'Statut',
      'Étape',
      'Zone (code)',
      'Catégorie',
      'Priorité',
      'Canal',
      'Sensible',
      'État SLA',
      "Niveau d'escalade",
      'Ouvert le',
      'Échéance de résolution',
      'Clos le',
    ])
    expect(lines.map((l) => l[0]).sort()).toEqual([
      'G-kati-c0',
      'G-kati-c1',
      'G-kati-c2',
      'G-kati-o0',
      'G-kati-o1',
      'G-kati-o2',
      'G-kayes-0',
      'G-kayes-1',
    ])
    const c2 = lines.find((l) => l[0] === 'G-kati-c2')!
    expect(c2).toEqual([
      'G-kati-c2',
      'grievance',
      'closed',
      'closed',
      KATI,
      'payment_not_received',
      'normal',
      'hotline',
      'false',
      'met',
      '0',
      '2026-01-05T08:00:00.000Z',
      '',
      '2026-01-15T08:00:00.000Z',
    ])
    for (const canary of Object.values(CANARY)) expect(text).not.toContain(canary)
    expect(text).not.toContain('G-kati-sens')
    expect(await exportsBy('gestionnaire')).toEqual([
      { action: 'export', rowCount: 8, exportKind: 'cases', role: 'programme_manager' },
    ])

    // Filters like the list's; English headers on request; a second export, a second audit row.
    const filtered = await get(
      `/api/exports/cases.csv?status=closed&areaCode=ML-2-KATI&lang=en`,
      'gestionnaire',
    )
    const [enHeader, ...closed] = parseCsv(await filtered.text())
    expect(enHeader!.slice(0, 3)).toEqual(['ID', 'Kind', 'Status'])
    expect(closed.map((l) => l[0]).sort()).toEqual(['G-kati-c0', 'G-kati-c1', 'G-kati-c2'])
    expect((await exportsBy('gestionnaire')).map((r) => r.rowCount)).toEqual([8, 3])
  })

  it('is scoped like the list: a supervisor with the permission exports their cercle only', async () => {
    await grantExport('superviseur.cercle.kayes')
    const res = await get('/api/exports/cases.csv', 'superviseur.cercle.kayes')
    const [, ...lines] = parseCsv(await res.text())
    expect(lines.map((l) => l[0]).sort()).toEqual(['G-kayes-0', 'G-kayes-1'])
    expect(await exportsBy('superviseur.cercle.kayes')).toMatchObject([{ rowCount: 2 }])
  })
})

describe('GET /reports/cases.csv', () => {
  it('needs the export permission as well as a manager role', async () => {
    const res = await get('/api/reports/cases.csv?groupBy=cercle', 'superviseur.cercle.kati')
    expect(res.status).toBe(403)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'EXPORT_NOT_ALLOWED',
    )
    await grantExport('agent.kati.1')
    expect((await get('/api/reports/cases.csv?groupBy=cercle', 'agent.kati.1')).status).toBe(403)
  })

  it('is the report with the same suppression, escaped, and audited', async () => {
    await grantExport('gestionnaire')
    const before = (await exportsBy('gestionnaire')).length
    const res = await get('/api/reports/cases.csv?groupBy=cercle', 'gestionnaire')
    expect(res.status).toBe(200)
    expect(res.headers.get('content-disposition')).toMatch(/^attachment;/)
    const [header, ...lines] = parseCsv(await res.text())
    expect(header![2]).toBe('Dossiers')
    expect(lines).toContainEqual(['ML-2-KATI', 'Kati', '', '', '', '3', '3', '3', '', 'true'])
    expect(lines).toContainEqual(['ML-1-KAYES', 'Kayes', '', '', '', '', '', '', '', 'true'])
    const audits = await exportsBy('gestionnaire')
    expect(audits).toHaveLength(before + 1)
    expect(audits.at(-1)).toMatchObject({ exportKind: 'report', rowCount: 2 })

    // A label with a comma, quotes and a line break survives the round trip.
    const byCategory = await get('/api/reports/cases.csv?groupBy=category', 'gestionnaire', appMin1)
    const rows = parseCsv(await byCategory.text())
    expect(rows).toContainEqual([
      'csv_test',
      'Paiement, "non" reçu\nsur deux lignes',
      '2',
      '2',
      '0',
      '0',
      '0',
      '0',
      '',
      'false',
    ])
  })
})

describe('CSV fields', () => {
  it('quote what needs quoting and defuse formulas', () => {
    expect(csvField('a,b')).toBe('"a,b"')
    expect(csvField('say "hi"')).toBe('"say ""hi"""')
    expect(csvField('=HYPERLINK("x")')).toBe(`"'=HYPERLINK(""x"")"`)
    expect(csvField(null)).toBe('')
    expect(parseCsv(toCsv(['a', 'b'], [['x\r\ny', 1]]))).toEqual([
      ['a', 'b'],
      ['x\r\ny', '1'],
    ])
  })
})
