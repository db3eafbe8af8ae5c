import { sql } from 'kysely'
import { maliCalendar, type BusinessCalendar } from '../../workflows/kernel/calendar'
import type { CaseKind } from '../../workflows/messages'
import { areaAncestry } from '../case-context'
import type { Db } from '../db/db'

/**
 * The business calendar (working week, holidays) and the active default policy of a case kind,
 * for the referral and appeal workflows. A kind without a policy row gets `defaults` (working
 * seconds), so that `npm start` works before an administrator sets one.
 */
export async function loadCalendar(db: Db): Promise<BusinessCalendar> {
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
  return {
    ...maliCalendar(holidays.map((h) => h.date)),
    ...(week ? { week: week.value as BusinessCalendar['week'] } : {}),
  }
}

export async function loadPolicy<K extends string>(
  db: Db,
  kind: CaseKind,
  defaults: Record<K, number>,
  /** A policy for the case's priority wins over the kind's general one. */
  priority?: string,
): Promise<{ policyId: number | null; targets: Record<K, number>; atRiskRatio: number }> {
  const row = await db
    .selectFrom('slaPolicies')
    .selectAll()
    .where('active', '=', true)
    .where('caseKind', '=', kind)
    .where('category', 'is', null)
    .where((eb) =>
      priority
        ? eb.or([eb('priority', 'is', null), eb('priority', '=', priority as 'normal')])
        : eb('priority', 'is', null),
    )
    .orderBy(sql`(priority is not null)::int`, 'desc')
    .executeTakeFirst()
  const seconds = { ...defaults, ...(row?.targets ?? {}) } as Record<string, number>
  const targets = Object.fromEntries(
    Object.keys(defaults).map((k) => [k, Math.round((seconds[k] ?? 0) * 1000)]),
  ) as Record<K, number>
  return { policyId: row?.id ?? null, targets, atRiskRatio: Number(row?.atRiskRatio ?? 0.75) }
}

export { areaAncestry }
