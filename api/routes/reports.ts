import { CASE_KINDS } from '../../workflows/messages'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Context } from 'hono'
import { sql, type Expression } from 'kysely'
import type { Db } from '../../activities/db/db'
import { areasWithin, visibleCases, within } from '../access'
import type { AppEnv, AuthUser } from '../auth/types'
import { ApiError } from '../errors'
import { validationHook } from '../lists'
import { errorResponses } from '../openapi'

export interface ReportsDeps {
  db: Db
  /**
   * Smallest count a report shows (default 3): a count from 1 to `minCell - 1` is answered as
   * null, so that a small cell never points at individual cases.
   */
  minCell?: number
}

// ---- CSV ----

/**
 * One CSV field (RFC 4180): quoted when it holds a quote, a comma or a line break, quotes
 * doubled. A text starting with `= + - @` (or a tab / carriage return) is prefixed with `'` so a
 * spreadsheet never runs it as a formula (area and category labels are administrator input).
 */
export function csvField(value: string | number | boolean | null | undefined): string {
  if (value === null || value === undefined) return ''
  let s = String(value)
  if (typeof value === 'string' && /^[=+\-@\t\r]/.test(s)) s = `'${s}`
  return /[",\r\n]/.test(s) ? `"${s.replace(/"/g, '""')}"` : s
}

/** A whole CSV document: a UTF-8 byte-order mark (Excel reads the accents), CRLF line ends. */
export function toCsv(header: readonly string[], rows: readonly (readonly unknown[])[]): string {
  const line = (cells: readonly unknown[]) =>
    cells.map((v) => csvField(v as string | number | boolean | null)).join(',')
  return `\uFEFF${[header, ...rows].map(line).join('\r\n')}\r\n`
}

// ---- Suppression ----

const COUNTS = ['cases', 'open', 'closed', 'resolvedOnTime', 'breached', 'escalated'] as const
type CountName = (typeof COUNTS)[number]
type Counts = Record<CountName, number>

export interface ReportRow {
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

type SourceRow = Counts & { key: string | null; label: string | null; medianDays: number | null }

/**
 * Small-count suppression (DESIGN §5) of a whole table, so that no combination of published
 * cells gives a small count back:
 * - primary: a row describing fewer than `minCell` cases shows no count at all (even a zero
 *   would tell something about those few cases); otherwise each count from 1 to `minCell - 1` is
 *   hidden, and so is its complement in the row (open + closed = cases would give it back);
 * - complementary: a column's total is public (the area's own row in a coarser report), so a
 *   column never hides exactly one cell (total minus the shown cells would recover it), nor only
 *   cells of 1 (each would be known to be 1): the smallest shown cell of that column is hidden
 *   too, with its row complements, until every column holds.
 * A row with any hidden cell is flagged `suppressed` and loses its median too.
 */
export function suppressTable(rows: SourceRow[], minCell: number): ReportRow[] {
  const small = (n: number) => n > 0 && n < minCell
  const hidden = rows.map((row) => {
    const h = new Set<CountName>()
    if (row.cases < minCell) COUNTS.forEach((k) => h.add(k))
    else COUNTS.forEach((k) => small(row[k]) && h.add(k))
    return h
  })
  /** Hiding one of cases / open / closed while the other two show would be undone by addition. */
  const completeRow = (h: Set<CountName>) => {
    if (h.has('cases')) h.add('open').add('closed')
    else if (h.has('open') !== h.has('closed')) h.add('open').add('closed')
  }
  const hide = (i: number, k: CountName) => {
    hidden[i]!.add(k)
    completeRow(hidden[i]!)
  }
  hidden.forEach(completeRow)
  for (let changed = true; changed;) {
    changed = false
    for (const k of COUNTS) {
      const inColumn = rows.flatMap((row, i) => (hidden[i]!.has(k) ? [row[k]] : []))
      if (inColumn.length === 0) continue
      // One hidden cell alone in its column is the total minus the shown cells: another cell of
      // the column must go with it (a hidden zero alone reveals only that it is zero).
      if (inColumn.length >= 2 || inColumn[0] === 0) continue
      const candidates = rows
        .map((row, i) => ({ i, value: row[k] }))
        .filter(({ i }) => !hidden[i]!.has(k))
        .sort((a, b) => (a.value > 0 ? 0 : 1) - (b.value > 0 ? 0 : 1) || a.value - b.value)
      const next = candidates[0]
      if (!next) continue // every cell of the column is hidden already
      hide(next.i, k)
      changed = true
    }
  }
  return rows.map((row, i) => {
    const h = hidden[i]!
    const suppressed = h.size > 0
    const cell = (k: CountName) => (h.has(k) ? null : row[k])
    return {
      key: row.key,
      label: row.label,
      cases: cell('cases'),
      open: cell('open'),
      closed: cell('closed'),
      resolvedOnTime: cell('resolvedOnTime'),
      breached: cell('breached'),
      escalated: cell('escalated'),
      medianDaysToClosure:
        suppressed || row.medianDays === null ? null : Math.round(row.medianDays * 10) / 10,
      suppressed,
    }
  })
}

/** One row on its own (a table of one row): see suppressTable. */
export function suppress(row: SourceRow, minCell: number): ReportRow {
  return suppressTable([row], minCell)[0]!
}

// ---- Schemas ----

const errors = errorResponses

const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/)
  .refine((s) => !Number.isNaN(Date.parse(`${s}T00:00:00Z`)), { message: 'not a date' })
const kinds = CASE_KINDS
const lang = z
  .enum(['fr', 'en'])
  .default('fr')
  .openapi({ description: 'Column headers and labels: French (default) or English' })

const ReportQuery = z.object({
  groupBy: z.enum(['region', 'cercle', 'category', 'channel', 'month', 'age']).openapi({
    description:
      "`age`: the open cases (the backlog) by days since opening, in buckets '0-7', '8-30', " +
      "'31-90' and '91+'",
  }),
  from: day.optional().openapi({ description: 'Opened on or after this day (YYYY-MM-DD)' }),
  to: day.optional().openapi({ description: 'Opened on or before this day (YYYY-MM-DD)' }),
  kind: z.enum(kinds).optional(),
  // Drill-down: one region, category or channel, e.g. its compliance month by month.
  areaCode: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,40}$/)
    .optional()
    .openapi({ description: 'Only cases in this area and every area below it' }),
  category: z
    .string()
    .regex(/^[a-z0-9_]{1,40}$/)
    .optional()
    .openapi({ description: 'Only cases of this category' }),
  channel: z
    .string()
    .regex(/^[a-z_]{1,40}$/)
    .optional()
    .openapi({ description: 'Only cases received through this channel' }),
  lang,
})
type ReportParams = z.infer<typeof ReportQuery>

const ExportQuery = z.object({
  status: z.enum(['open', 'closed']).optional(),
  kind: z.enum(kinds).optional(),
  areaCode: z
    .string()
    .regex(/^[A-Za-z0-9-]{1,40}$/)
    .optional()
    .openapi({ description: 'This area and every area below it' }),
  from: day.optional().openapi({ description: 'Opened on or after this day (YYYY-MM-DD)' }),
  to: day.optional().openapi({ description: 'Opened on or before this day (YYYY-MM-DD)' }),
  lang,
})

const count = z.number().int().nullable()
const ReportRowSchema = z
  .object({
    key: z.string().nullable().openapi({ description: 'Area code, category, channel or YYYY-MM' }),
    label: z.string().nullable(),
    cases: count,
    open: count,
    closed: count,
    resolvedOnTime: count.openapi({ description: "Closed with the SLA 'met'" }),
    breached: count,
    escalated: count,
    medianDaysToClosure: z.number().nullable(),
    suppressed: z.boolean(),
  })
  .openapi('ReportRow')

const ReportSchema = z
  .object({
    groupBy: z.string(),
    minCell: z.number().int(),
    rows: z.array(ReportRowSchema),
  })
  .openapi('CaseReport')

const SUPPRESSION = (minCell: number) =>
  `Counts below ${minCell} are suppressed: answered as null (an empty cell in CSV) with ` +
  '`suppressed: true` on the row; a row describing fewer cases shows no count at all, the ' +
  'complement of a suppressed open/closed count is suppressed too, a column never hides a ' +
  "single cell (the area's total minus the shown cells would give it back: the smallest other " +
  'cell is hidden with it), and a suppressed row has no median. Only programme managers and supervisors, over the cases they may see within the areas ' +
  'where they hold that role.'

const csvResponse = (description: string) => ({
  description,
  content: { 'text/csv': { schema: z.string() } },
})

// ---- Queries ----

const MANAGER_ROLES = ['programme_manager', 'supervisor'] as const
/** The role recorded in the audit: the one with the most reach. */
const ROLE_ORDER = ['programme_manager', 'supervisor', 'case_worker'] as const

function managerAreas(user: AuthUser): string[] {
  return [
    ...new Set(
      user.roles
        .filter((r) => (MANAGER_ROLES as readonly string[]).includes(r.role))
        .map((r) => r.areaCode),
    ),
  ]
}

function requireManager(user: AuthUser): string[] {
  const areas = managerAreas(user)
  // Reports are for programme managers and supervisors; a case worker works case by case.
  if (!areas.length) {
    throw new ApiError(403, 'FORBIDDEN', 'Reports are for programme managers and supervisors')
  }
  return areas
}

async function requireExport(db: Db, user: AuthUser): Promise<void> {
  // Read from the database on every export: a revoked permission takes effect at once.
  const row = await db
    .selectFrom('users')
    .select('canExport')
    .where('id', '=', user.id)
    .executeTakeFirst()
  if (!row?.canExport) {
    throw new ApiError(403, 'EXPORT_NOT_ALLOWED', 'Exports need the export permission')
  }
}

const dayStart = (d: string) => new Date(`${d}T00:00:00Z`)
// Africa/Bamako is UTC+0 all year: a day is a UTC day. `to` includes its whole day.
const dayEnd = (d: string) => new Date(dayStart(d).getTime() + 86_400_000)

/** Counts per group over the cases the manager may see, in one indexed aggregate query. */
async function reportRows(db: Db, user: AuthUser, params: ReportParams, minCell: number) {
  const areas = requireManager(user)
  let q = visibleCases(db, user)
    // A case worker role held elsewhere does not widen a report: only the manager's own areas.
    .where('cases.areaCode', 'in', areasWithin(db, areas))
    .leftJoin('adminAreas as ca', 'ca.code', 'cases.areaCode')
  if (params.kind) q = q.where('cases.kind', '=', params.kind)
  if (params.from) q = q.where('cases.openedAt', '>=', dayStart(params.from))
  if (params.to) q = q.where('cases.openedAt', '<', dayEnd(params.to))
  if (params.areaCode) q = q.where('cases.areaCode', 'in', areasWithin(db, [params.areaCode]))
  if (params.category) q = q.where('cases.category', '=', params.category)
  if (params.channel) q = q.where('cases.channel', '=', params.channel)

  let key: Expression<string | null>
  let label: Expression<string | null>
  let grouped
  switch (params.groupBy) {
    case 'region':
    case 'cercle': {
      // The case's area → its ancestor at that level, through the area paths (migration 000600).
      // The mapping is computed once over the areas (hundreds of rows) and hash-joined to the
      // cases, rather than a path-range lookup per case (a million at S5's size).
      const level = params.groupBy
      const ancestors = db
        .selectFrom('adminAreas as a')
        .innerJoin('adminAreas as g', (join) => join.on('g.level', '=', level).on(within('a', 'g')))
        .select(['a.code as areaCode', 'g.code as groupCode', 'g.name as groupName'])
        .as('m')
      grouped = q.leftJoin(ancestors, 'm.areaCode', 'cases.areaCode')
      key = sql<string | null>`${sql.ref('m.groupCode')}`
      label = sql<string | null>`${sql.ref('m.groupName')}`
      break
    }
    case 'category':
      grouped = q.leftJoin('categories as k', 'k.code', 'cases.category')
      key = sql<string | null>`cases.category`
      label = params.lang === 'en' ? sql`k.label_en` : sql`k.label_fr`
      break
    case 'channel':
      grouped = q
      key = sql<string | null>`cases.channel`
      label = sql<string | null>`cases.channel`
      break
    case 'month':
      grouped = q
      key = sql<string>`to_char(cases.opened_at at time zone 'Africa/Bamako', 'YYYY-MM')`
      label = key
      break
    case 'age':
      // The backlog: cases still open, by how long they have been waiting.
      grouped = q.where('cases.status', '<>', 'closed')
      key = sql<string>`case
        when cases.opened_at > now() - interval '8 days' then '0-7'
        when cases.opened_at > now() - interval '31 days' then '8-30'
        when cases.opened_at > now() - interval '91 days' then '31-90'
        else '91+' end`
      label = key
      break
  }
  const rows = await grouped
    .select([
      sql<string | null>`${key}`.as('key'),
      sql<string | null>`${label}`.as('label'),
      sql<number>`count(*)::int`.as('cases'),
      sql<number>`(count(*) filter (where cases.status <> 'closed'))::int`.as('open'),
      sql<number>`(count(*) filter (where cases.status = 'closed'))::int`.as('closed'),
      sql<number>`(count(*) filter (where cases.status = 'closed' and cases.sla_state = 'met'))::int`.as(
        'resolvedOnTime',
      ),
      sql<number>`(count(*) filter (where cases.sla_state = 'breached'))::int`.as('breached'),
      sql<number>`(count(*) filter (where cases.escalation_level > 0))::int`.as('escalated'),
      sql<number | null>`percentile_cont(0.5) within group (
        order by extract(epoch from cases.closed_at - cases.opened_at) / 86400
      ) filter (where cases.status = 'closed' and cases.closed_at is not null)`.as('medianDays'),
    ])
    .groupBy([key, label])
    .orderBy(sql`1`, (ob) => ob.asc().nullsLast())
    .execute()
  return suppressTable(
    rows.map((r) => ({
      key: r.key,
      label: r.label,
      cases: r.cases,
      open: r.open,
      closed: r.closed,
      resolvedOnTime: r.resolvedOnTime,
      breached: r.breached,
      escalated: r.escalated,
      medianDays: r.medianDays === null ? null : Number(r.medianDays),
    })),
    minCell,
  )
}

const reportHeaders = {
  fr: [
    'Groupe (code)',
    'Libellé',
    'Dossiers',
    'Ouverts',
    'Clos',
    'Résolus dans les délais',
    'Délai dépassé',
    'Escaladés',
    'Délai médian de clôture (jours)',
    'Masqué (petit effectif)',
  ],
  en: [
    'Group (code)',
    'Label',
    'Cases',
    'Open',
    'Closed',
    'Resolved on time',
    'Breached',
    'Escalated',
    'Median days to closure',
    'Suppressed (small count)',
  ],
} as const

/** Codes and dates only: no reference, household, narrative or contact ever leaves this way. */
const exportColumns = [
  ['id', 'Identifiant', 'ID'],
  ['kind', 'Type', 'Kind'],
  ['status', 'Statut', 'Status'],
  ['stage', 'Étape', 'Stage'],
  ['areaCode', 'Zone (code)', 'Area code'],
  ['category', 'Catégorie', 'Category'],
  ['priority', 'Priorité', 'Priority'],
  ['channel', 'Canal', 'Channel'],
  ['sensitive', 'Sensible', 'Sensitive'],
  ['slaState', 'État SLA', 'SLA state'],
  ['escalationLevel', "Niveau d'escalade", 'Escalation level'],
  ['openedAt', 'Ouvert le', 'Opened at'],
  ['resolveDueAt', 'Échéance de résolution', 'Resolve due at'],
  ['closedAt', 'Clos le', 'Closed at'],
] as const
type ExportColumn = (typeof exportColumns)[number][0]

/** Largest export answered in one piece; a bigger one is narrowed by its filters. */
const MAX_EXPORT_ROWS = 100_000

async function auditExport(
  db: Db,
  user: AuthUser,
  exportKind: 'cases' | 'report',
  rowCount: number,
): Promise<void> {
  const held = new Set(user.roles.map((r) => r.role as string))
  // One row per export, written before the file leaves: an export is never unaudited.
  await db
    .insertInto('accessAudit')
    .values({
      userId: user.id,
      action: 'export',
      caseId: null,
      taskId: null,
      role: ROLE_ORDER.find((r) => held.has(r)) ?? null,
      rowCount,
      exportKind,
    })
    .execute()
}

function csvAnswer(c: Context<AppEnv>, name: string, csv: string) {
  const stamp = new Date().toISOString().slice(0, 10)
  return c.body(csv, 200, {
    'Content-Type': 'text/csv; charset=utf-8',
    'Content-Disposition': `attachment; filename="${name}-${stamp}.csv"`,
    'Cache-Control': 'no-store',
  })
}

// ---- Routes ----

/**
 * Reports and exports (DESIGN §1, §5). Reports are aggregates for programme managers and
 * supervisors over the cases they may see, with every count below `minCell` suppressed. Exports
 * (case rows as CSV, or the report as CSV) need the separate `can_export` permission, carry codes
 * and dates only, and each writes one `access_audit` row (action `export`, with its row count).
 */
export function reportsRoutes(deps: ReportsDeps) {
  const { db } = deps
  const minCell = deps.minCell ?? 3
  if (!Number.isInteger(minCell) || minCell < 1) throw new Error('minCell must be an integer ≥ 1')

  const reportRoute = createRoute({
    method: 'get',
    path: '/reports/cases',
    tags: ['reports'],
    summary: 'Case counts by region, cercle, category, channel or month (small counts suppressed)',
    description: SUPPRESSION(minCell),
    request: { query: ReportQuery },
    responses: {
      200: {
        description: 'One row per group',
        content: { 'application/json': { schema: ReportSchema } },
      },
      ...errors(400, 401, 403),
    },
  })

  const reportCsvRoute = createRoute({
    method: 'get',
    path: '/reports/cases.csv',
    tags: ['reports'],
    summary: 'The case report as CSV (export permission; audited)',
    description: `${SUPPRESSION(minCell)} Needs the export permission as well (403 \`EXPORT_NOT_ALLOWED\`); every download is audited.`,
    request: { query: ReportQuery },
    responses: {
      200: csvResponse('The report; suppressed cells are empty'),
      ...errors(400, 401, 403),
    },
  })

  const exportRoute = createRoute({
    method: 'get',
    path: '/exports/cases.csv',
    tags: ['exports'],
    summary: 'The cases the user may see as CSV: codes and dates only (export permission; audited)',
    description:
      'Needs the export permission (403 `EXPORT_NOT_ALLOWED`), granted per user by an ' +
      'administrator. Scoped like the case list; never carries a narrative, a contact, a ' +
      'reference or a household. Each download writes one audit row with its row count. At most ' +
      `${MAX_EXPORT_ROWS} rows (422 \`EXPORT_TOO_LARGE\`: narrow the filters).`,
    request: { query: ExportQuery },
    responses: {
      200: csvResponse('One line per case, headers in French (default) or English'),
      ...errors(400, 401, 403, 422),
    },
  })

  const permissionRoute = createRoute({
    method: 'get',
    path: '/reports/export-permission',
    tags: ['exports'],
    summary: 'Whether the signed-in user may export (the console shows its CSV buttons by it)',
    responses: {
      200: {
        description: 'The permission, read from the database on every call',
        content: { 'application/json': { schema: z.object({ canExport: z.boolean() }) } },
      },
      ...errors(401),
    },
  })

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(permissionRoute, async (c) => {
      const row = await db
        .selectFrom('users')
        .select('canExport')
        .where('id', '=', c.get('user').id)
        .executeTakeFirst()
      return c.json({ canExport: row?.canExport ?? false }, 200)
    })
    .openapi(reportRoute, async (c) => {
      const params = c.req.valid('query')
      const rows = await reportRows(db, c.get('user'), params, minCell)
      return c.json({ groupBy: params.groupBy, minCell, rows }, 200)
    })
    .openapi(reportCsvRoute, async (c) => {
      const user = c.get('user')
      const params = c.req.valid('query')
      requireManager(user)
      await requireExport(db, user)
      const rows = await reportRows(db, user, params, minCell)
      const csv = toCsv(
        reportHeaders[params.lang],
        rows.map((r) => [
          r.key,
          r.label,
          r.cases,
          r.open,
          r.closed,
          r.resolvedOnTime,
          r.breached,
          r.escalated,
          r.medianDaysToClosure,
          r.suppressed,
        ]),
      )
      await auditExport(db, user, 'report', rows.length)
      return csvAnswer(c, `rapport-dossiers-${params.groupBy}`, csv)
    })
    .openapi(exportRoute, async (c) => {
      const user = c.get('user')
      const params = c.req.valid('query')
      await requireExport(db, user)
      let q = visibleCases(db, user)
      if (params.status) q = q.where('cases.status', '=', params.status)
      if (params.kind) q = q.where('cases.kind', '=', params.kind)
      if (params.areaCode) q = q.where('cases.areaCode', 'in', areasWithin(db, [params.areaCode]))
      if (params.from) q = q.where('cases.openedAt', '>=', dayStart(params.from))
      if (params.to) q = q.where('cases.openedAt', '<', dayEnd(params.to))
      // A user with no role sees no case: an empty file, still audited.
      const rows = await q
        .select(exportColumns.map(([k]) => `cases.${k}` as `cases.${ExportColumn}`))
        .orderBy('cases.openedAt')
        .orderBy('cases.id')
        .limit(MAX_EXPORT_ROWS + 1)
        .execute()
      if (rows.length > MAX_EXPORT_ROWS) {
        throw new ApiError(
          422,
          'EXPORT_TOO_LARGE',
          `More than ${MAX_EXPORT_ROWS} cases: narrow the filters`,
        )
      }
      const iso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())
      const csv = toCsv(
        exportColumns.map(([, fr, en]) => (params.lang === 'en' ? en : fr)),
        rows.map((r) =>
          exportColumns.map(([k]) => {
            const v = r[k]
            return v instanceof Date || k.endsWith('At') ? iso(v as Date | null) : v
          }),
        ),
      )
      await auditExport(db, user, 'cases', rows.length)
      return csvAnswer(c, 'dossiers', csv)
    })
}
