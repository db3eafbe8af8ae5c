import type { AppealContext } from '../../workflows/kinds/appeal/messages'
import type { CaseEvent, CaseKind } from '../../workflows/messages'
import type { FieldCipher } from '../crypto/field-cipher'
import type { Db } from '../db/db'
import { loadHistoryLimit } from '../case-context'
import { createProjectionActivities } from '../projection'
import { areaAncestry, loadCalendar, loadPolicy } from '../referrals/context'

const DAY = 8 * 3600
/** Working seconds when no appeal policy is set. */
const APPEAL_DEFAULTS = {
  review: 10 * DAY,
  implementation: 10 * DAY,
  // The whole appeal's clock, and how long after a breach the next level is alerted.
  resolve: 25 * DAY,
  escalationRepeat: 5 * DAY,
}
/** When the contested case's policy does not say: 30 days (wall clock). */
const DEFAULT_WINDOW_MS = 30 * 24 * 3600_000

/** Events by which a person decided something on a case (its deciders may not review an appeal). */
const DECIDING_EVENTS = ['task.completed', 'approval.decided', 'case.triaged']
/** Events that communicate a decision, after which the appeal window runs. */
const DECISION_EVENTS = ['case.resolved', 'registry.updated', 'household.notified']

export interface ContestedDecision {
  caseId: string
  kind: CaseKind
  decidedAt: string
  windowEndsAt: string
  deciders: string[]
  householdId: string | null
}

/**
 * The decision an appeal contests: when it was communicated, until when it may be appealed
 * (a grievance's own `appealWindowEndsAt`; otherwise the decision time plus the policy's appeal
 * window), and who took part in it. Undefined when nothing has been decided yet.
 */
export async function contestedDecision(
  db: Db,
  caseId: string,
): Promise<ContestedDecision | undefined> {
  const kase = await db
    .selectFrom('cases')
    .select(['id', 'kind', 'householdId'])
    .where('id', '=', caseId)
    .executeTakeFirst()
  if (!kase) return undefined
  const events = await db
    .selectFrom('caseEvents')
    .select(['type', 'actorId', 'actorRole', 'occurredAt', 'after', 'data'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()
  const decision = [...events].reverse().find((e) => DECISION_EVENTS.includes(e.type))
  if (!decision) return undefined
  const decidedAt = new Date(decision.occurredAt)
  const stated = (decision.after as { appealWindowEndsAt?: string } | null)?.appealWindowEndsAt
  const policy = events.find((e) => e.type === 'case.opened')?.data as {
    policy?: { targets?: { appealWindow?: number } }
  } | null
  const windowMs = policy?.policy?.targets?.appealWindow || DEFAULT_WINDOW_MS
  const windowEndsAt = stated ?? new Date(decidedAt.getTime() + windowMs).toISOString()
  const deciders = [
    ...new Set(
      events
        .filter((e) => DECIDING_EVENTS.includes(e.type) && e.actorId)
        .map((e) => e.actorId as string),
    ),
  ]
  return {
    caseId,
    kind: kase.kind,
    decidedAt: decidedAt.toISOString(),
    windowEndsAt,
    deciders,
    householdId: kase.householdId,
  }
}

/**
 * Appeal activities: the context an appeal snapshots (its policy, the contested case's deciders,
 * who may therefore not review it), and its projection, which on opening gives the appeal the
 * contested case's contact (still encrypted), so that the household hears of the decision.
 */
export function createAppealActivities({
  db,
  cipher,
  publicUrl,
}: {
  db: Db
  cipher: FieldCipher
  publicUrl?: string
}) {
  const { projectCaseEvent } = createProjectionActivities({ db, publicUrl, cipher })
  return {
    async loadAppealContext(input: {
      contestedCaseId: string
      areaCode: string
      priority?: string
    }): Promise<AppealContext> {
      const contested = await contestedDecision(db, input.contestedCaseId)
      if (!contested) throw new Error(`case ${input.contestedCaseId} has no decision to appeal`)
      const policy = await loadPolicy(db, 'appeal', APPEAL_DEFAULTS, input.priority)
      const historyLimit = await loadHistoryLimit(db)
      return {
        ...(historyLimit ? { historyLimit } : {}),
        policy: { ...policy, calendar: await loadCalendar(db) },
        areaPath: await areaAncestry(db, input.areaCode),
        deciders: contested.deciders,
        contestedKind: contested.kind,
        householdId: contested.householdId,
      }
    },

    async projectAppealEvent(
      event: CaseEvent,
      appeal: { contestedCaseId: string },
    ): Promise<{ notificationKeys: string[] }> {
      if (event.type === 'case.opened') {
        await projectCaseEvent({ ...event, notify: [] })
        await db
          .insertInto('complainantContacts')
          .columns(['caseId', 'email', 'phone', 'locale'])
          .expression((eb) =>
            eb
              .selectFrom('complainantContacts')
              .select((e) => [e.val(event.caseId).as('caseId'), 'email', 'phone', 'locale'])
              .where('caseId', '=', appeal.contestedCaseId),
          )
          .onConflict((oc) => oc.column('caseId').doNothing())
          .execute()
        return { notificationKeys: [] }
      }
      return projectCaseEvent(event)
    },
  }
}
