import { z } from '@hono/zod-openapi'
import type { Selectable } from 'kysely'
import type { Db } from '../../activities/db/db'
import type { CasesTable } from '../../activities/db/schema'
import { CASE_KINDS, type Actor } from '../../workflows/messages'
import { actorFor, audit, breakGlassActor, visibleCases } from '../access'
import type { AuthUser } from '../auth/types'
import { ApiError } from '../errors'
import { isoDateTime } from '../openapi'

/**
 * The case service the routes share (cases, tasks, re-verifications, referrals, appeals): the
 * case row as the API shows it, the audited refusal of a case out of sight, and the lookup of a
 * visible case with the role the user acts in.
 */

const iso = isoDateTime

export const CaseSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable(),
    kind: z.enum(CASE_KINDS),
    status: z.string(),
    stage: z.string(),
    areaCode: z.string(),
    category: z.string().nullable(),
    priority: z.string(),
    channel: z.string().nullable(),
    sensitive: z.boolean(),
    slaState: z.string(),
    ackDueAt: iso.nullable(),
    resolveDueAt: iso.nullable(),
    escalationLevel: z.number().int(),
    parentCaseId: z.string().nullable(),
    householdId: z.string().nullable(),
    satisfaction: z.string().nullable(),
    openedAt: iso,
    closedAt: iso.nullable(),
    updatedAt: iso,
  })
  .openapi('Case')
export type CaseDto = z.infer<typeof CaseSchema>

const toIso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

export function caseDto(row: Selectable<CasesTable>): CaseDto {
  return {
    id: row.id,
    reference: row.reference,
    kind: row.kind,
    status: row.status,
    stage: row.stage,
    areaCode: row.areaCode,
    category: row.category,
    priority: row.priority,
    channel: row.channel,
    sensitive: row.sensitive,
    slaState: row.slaState,
    ackDueAt: toIso(row.ackDueAt),
    resolveDueAt: toIso(row.resolveDueAt),
    escalationLevel: row.escalationLevel,
    parentCaseId: row.parentCaseId,
    householdId: row.householdId,
    satisfaction: row.satisfaction,
    openedAt: toIso(row.openedAt)!,
    closedAt: toIso(row.closedAt),
    updatedAt: toIso(row.updatedAt)!,
  }
}

/** The same answer for a case out of scope, sensitive without clearance, or absent (§5). */
export const caseNotFound = () => new ApiError(404, 'NOT_FOUND', 'Case not found')

/**
 * Refuses access to a case (or task) the user may not see: audits it as `denied` when it exists
 * and `not_found` when it does not — the same work either way, so the answer's timing tells no
 * more than its body — and throws the 404 of a missing case.
 */
export async function deny(
  db: Db,
  user: AuthUser,
  target: { caseId?: string; taskId?: string },
  notFound: () => ApiError = caseNotFound,
): Promise<never> {
  const exists = target.taskId
    ? await db
        .selectFrom('tasks')
        .select('caseId')
        .where('id', '=', target.taskId)
        .executeTakeFirst()
    : await db
        .selectFrom('cases')
        .select('id as caseId')
        .where('id', '=', target.caseId ?? '')
        .executeTakeFirst()
  await audit(db, [
    {
      userId: user.id,
      action: exists ? 'denied' : 'not_found',
      caseId: exists?.caseId ?? target.caseId ?? null,
      taskId: target.taskId ?? null,
    },
  ])
  throw notFound()
}

/** A visible case row, or the audited 404. Sensitive reads are audited with the acting role. */
export async function loadVisibleCase(
  db: Db,
  user: AuthUser,
  caseId: string,
): Promise<{ row: Selectable<CasesTable>; actor: Actor }> {
  const row = await visibleCases(db, user)
    .selectAll('cases')
    .where('cases.id', '=', caseId)
    .executeTakeFirst()
  if (!row) return deny(db, user, { caseId })
  const actor =
    (await actorFor(db, user, row.areaCode)) ?? (await breakGlassActor(db, user, caseId))
  // Visible implies a covering role or a grant; if either changed in between, deny.
  if (!actor) return deny(db, user, { caseId })
  return { row, actor }
}
