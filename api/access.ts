import { sql, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { Db } from '../activities/db/db'
import type { AuditAction, Database } from '../activities/db/schema'
import type { Actor, RoleCode } from '../workflows/messages'
import type { AuthUser } from './auth/types'

/**
 * `area` (an `admin_areas` alias) is `ancestor` itself or lies below it. A range on the byte-wise
 * order of `path` rather than a LIKE, so that the text_pattern_ops index serves it even when the
 * prefix comes from a joined row or a bound parameter.
 */
export function within(area: string, ancestor: string) {
  const a = sql.ref(`${area}.path`)
  const r = sql.ref(`${ancestor}.path`)
  return sql<SqlBool>`(${a} = ${r} or (${a} ~>=~ (${r} || '/') and ${a} ~<~ (${r} || '0')))`
}

/** Roles that see cases, each within the area where it is held and every area below. */
const CASE_ROLES: readonly RoleCode[] = ['case_worker', 'supervisor', 'programme_manager']

/** Areas (codes) where the user holds a role that sees cases; administrators and partners none. */
export function caseAreas(user: AuthUser): string[] {
  return [...new Set(user.roles.filter((r) => CASE_ROLES.includes(r.role)).map((r) => r.areaCode))]
}

type CaseScope = ExpressionBuilder<Database, 'cases'>

/**
 * The access rule as a WHERE clause on `cases`: the case's area is within an area where the user
 * holds a case-seeing role (case worker, supervisor, programme manager; national = everything),
 * and a sensitive case needs the user's clearance. Administrators, partners and users without a
 * role get `false`: the default is deny.
 */
export function caseVisible(user: AuthUser) {
  const areas = caseAreas(user)
  return (eb: CaseScope) => {
    // A justified break-glass access, still running, opens that one case (audited, reported).
    const brokenGlass = eb.exists(
      eb
        .selectFrom('breakGlassGrants as g')
        .whereRef('g.caseId', '=', 'cases.id')
        .where('g.userId', '=', user.id)
        .where('g.expiresAt', '>', sql<Date>`now()`)
        .select(sql`1`.as('one')),
    )
    // Default deny: no role in any area, nothing to see.
    if (areas.length === 0) return brokenGlass
    const inScope = eb(
      'cases.areaCode',
      'in',
      // Areas below the user's: an index range scan on `path` per role area (text_pattern_ops).
      eb
        .selectFrom('adminAreas as r')
        .innerJoin('adminAreas as d', (join) => join.on(within('d', 'r')))
        .where('r.code', 'in', areas)
        .select('d.code'),
    )
    // Sensitive cases: designated focal points only; everyone else is answered as if it did not exist.
    const normal = user.clearance ? inScope : eb.and([inScope, eb('cases.sensitive', '=', false)])
    return eb.or([normal, brokenGlass])
  }
}

/** The cases `user` may see: a query on `cases` to refine, select from and page. */
export function visibleCases(db: Db, user: AuthUser) {
  return db.selectFrom('cases').where(caseVisible(user))
}

/** The tasks `user` may see: those of the cases they may see. */
export function visibleTasks(db: Db, user: AuthUser) {
  return db
    .selectFrom('tasks')
    .innerJoin('cases', 'cases.id', 'tasks.caseId')
    .where(caseVisible(user))
}

/** Area codes within any of `areaCodes` (themselves included), as a subquery for `in`. */
export function areasWithin(db: Db, areaCodes: string[]) {
  return db
    .selectFrom('adminAreas as r')
    .innerJoin('adminAreas as d', (join) => join.on(within('d', 'r')))
    .where('r.code', 'in', areaCodes.length ? areaCodes : [''])
    .select('d.code')
}

/** Most specific first; at equal depth, the role with the most authority over a case. */
const ROLE_RANK: Record<string, number> = { supervisor: 0, programme_manager: 1, case_worker: 2 }

/**
 * The `Actor` a user acts as on a case in `areaCode`: always built from the authenticated user,
 * never from a request body. The role is the one held in the most specific area containing the
 * case's area; undefined when no role covers it.
 */
export async function actorFor(
  db: Db,
  user: AuthUser,
  areaCode: string,
): Promise<Actor | undefined> {
  const areas = caseAreas(user)
  if (!areas.length) return undefined
  const rows = await db
    .selectFrom('adminAreas as r')
    .innerJoin('adminAreas as c', (join) => join.on(within('c', 'r')))
    .where('c.code', '=', areaCode)
    .where('r.code', 'in', areas)
    .select(['r.code', sql<number>`length(r.path)`.as('depth')])
    .execute()
  const held = user.roles
    .filter((role) => CASE_ROLES.includes(role.role))
    .flatMap((role) => {
      const row = rows.find((r) => r.code === role.areaCode)
      return row ? [{ role: role.role, depth: Number(row.depth) }] : []
    })
    .sort((a, b) => b.depth - a.depth || (ROLE_RANK[a.role] ?? 9) - (ROLE_RANK[b.role] ?? 9))
  const best = held[0]
  if (!best) return undefined
  return { userId: user.id, role: best.role, clearance: user.clearance }
}

export type { AuditAction }

/**
 * Appends to the access audit (DESIGN §5): reads of sensitive cases and every denied access,
 * with who, which case or task and from which role.
 */
export async function audit(
  db: Db,
  entries: {
    userId: string
    action: AuditAction
    caseId?: string | null
    taskId?: string | null
    role?: string | null
  }[],
): Promise<void> {
  if (!entries.length) return
  await db
    .insertInto('accessAudit')
    .values(
      entries.map((e) => ({
        userId: e.userId,
        action: e.action,
        // Ids typed by a user are bounded: the audit is not a place to store arbitrary input.
        caseId: e.caseId?.slice(0, 100) ?? null,
        taskId: e.taskId?.slice(0, 100) ?? null,
        role: e.role ?? null,
      })),
    )
    .execute()
}

/**
 * The `Actor` of a user whose access to `caseId` comes from a running break-glass grant (no role
 * covers its area): the designated role they broke the glass with.
 */
export async function breakGlassActor(
  db: Db,
  user: AuthUser,
  caseId: string,
): Promise<Actor | undefined> {
  const grant = await db
    .selectFrom('breakGlassGrants')
    .select('id')
    .where('userId', '=', user.id)
    .where('caseId', '=', caseId)
    .where('expiresAt', '>', sql<Date>`now()`)
    .executeTakeFirst()
  const role = user.roles.find((r) => r.role === 'supervisor' || r.role === 'programme_manager')
  if (!grant || !role) return undefined
  return { userId: user.id, role: role.role, clearance: user.clearance }
}
