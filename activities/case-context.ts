import { sql } from 'kysely'
import { maliCalendar, type BusinessCalendar } from '../workflows/kernel/calendar'
import type { CaseContext, CaseKind, Priority, RoleCode } from '../workflows/messages'
import type { Db } from './db/db'

/**
 * Reference data a case needs when it opens: the SLA policy in force (most specific active row
 * for kind × category × priority), the business calendar with its holidays, and the case's area
 * with its ancestors. The workflow snapshots it, so a later policy change never rewrites history.
 */
export function createCaseContextActivities({ db }: { db: Db }) {
  return {
    async loadCaseContext(input: {
      kind: CaseKind
      category?: string
      priority: Priority
      areaCode: string
    }): Promise<CaseContext> {
      const policy = await db
        .selectFrom('slaPolicies')
        .selectAll()
        .where('active', '=', true)
        .where('caseKind', '=', input.kind)
        .where((eb) =>
          eb.or([eb('category', 'is', null), eb('category', '=', input.category ?? '')]),
        )
        .where((eb) => eb.or([eb('priority', 'is', null), eb('priority', '=', input.priority)]))
        // The most specific row wins: a category match beats a priority match beats the default.
        .orderBy(sql`(category is not null)::int * 2 + (priority is not null)::int`, 'desc')
        .executeTakeFirst()
      if (!policy) throw new Error(`no active SLA policy for ${input.kind}`)
      const areaPath = await areaAncestry(db, input.areaCode)
      const holidays = await db
        .selectFrom('holidays')
        .select(sql<string>`to_char(date, 'YYYY-MM-DD')`.as('date'))
        .orderBy('date')
        .execute()
      const week = await db
        .selectFrom('appSettings')
        .select('value')
        .where('key', '=', 'business_week')
        .executeTakeFirst()
      const calendar: BusinessCalendar = {
        ...maliCalendar(holidays.map((h) => h.date)),
        ...(week ? { week: week.value as BusinessCalendar['week'] } : {}),
      }
      const sensitive = await db
        .selectFrom('categories')
        .select('code')
        .where('sensitive', '=', true)
        .execute()
      const historyLimit = await loadHistoryLimit(db)
      const seconds = policy.targets
      const ms = (key: string) => Math.round((seconds[key] ?? 0) * 1000)
      return {
        policy: {
          policyId: policy.id,
          targets: {
            acknowledge: ms('acknowledge'),
            triage: ms('triage'),
            investigation: ms('investigation'),
            approval: ms('approval'),
            resolve: ms('resolve'),
            escalationRepeat: ms('escalationRepeat'),
            appealWindow: ms('appealWindow'),
          },
          atRiskRatio: Number(policy.atRiskRatio),
          calendar,
        },
        areaPath,
        sensitiveCategories: sensitive.map((c) => c.code),
        ...(historyLimit ? { historyLimit } : {}),
      }
    },

    /**
     * Assignment: candidates hold `role` in the area (or, for focal points of sensitive cases and
     * for supervisors above a commune, in the area exactly as asked); users on leave or inactive
     * are skipped; the one with the fewest open tasks wins, ties broken by username.
     */
    async pickAssignee(input: {
      role: RoleCode
      /** Areas where a candidate's role may be held, e.g. [commune] or the whole ancestry. */
      areaCodes: string[]
      clearance: boolean
      /** This case's tasks no longer open whose projection may still be on its way. */
      settledTaskIds?: string[]
    }): Promise<string | null> {
      const row = await db
        .selectFrom('users')
        .innerJoin('userRoles', 'userRoles.userId', 'users.id')
        .select('users.id')
        .where('userRoles.roleCode', '=', input.role)
        .where('userRoles.areaCode', 'in', input.areaCodes)
        .where('users.active', '=', true)
        .where('users.onLeave', '=', false)
        .$if(input.clearance, (qb) => qb.where('users.sensitiveClearance', '=', true))
        .orderBy(
          (eb) =>
            eb
              .selectFrom('tasks')
              .select((e) => e.fn.countAll().as('n'))
              .whereRef('tasks.assigneeId', '=', 'users.id')
              .where('tasks.status', 'in', ['open', 'claimed'])
              .$if(!!input.settledTaskIds?.length, (q) =>
                q.where('tasks.id', 'not in', input.settledTaskIds!),
              ),
          'asc',
        )
        .orderBy('users.username')
        .executeTakeFirst()
      return row?.id ?? null
    },
  }
}

/** The operator's history length after which a case continues as new (every kind). */
export async function loadHistoryLimit(db: Db): Promise<number | undefined> {
  const limit = await db
    .selectFrom('appSettings')
    .select('value')
    .where('key', '=', 'workflow_history_limit')
    .executeTakeFirst()
  return typeof limit?.value === 'number' ? limit.value : undefined
}

/** [area, parent, grandparent, …] up to the national level. */
export async function areaAncestry(db: Db, areaCode: string): Promise<string[]> {
  const { rows } = await sql<{ code: string }>`
    with recursive up(code, parent_code, depth) as (
      select code, parent_code, 0 from admin_areas where code = ${areaCode}
      union all
      select a.code, a.parent_code, up.depth + 1 from admin_areas a join up on a.code = up.parent_code
    )
    select code from up order by depth`.execute(db)
  if (rows.length === 0) throw new Error(`unknown area ${areaCode}`)
  return rows.map((r) => r.code)
}
