import type { WorkflowHandle } from '@temporalio/client'
import { expect } from 'vitest'
import type { Db } from '../../activities/db/db'
import type { BusinessCalendar } from '../../workflows/kernel/calendar'
import { slaStatus, type SlaClockEvent } from '../../workflows/kernel/sla'
import { grievanceViewQuery, type PolicySnapshot } from '../../workflows/messages'

/**
 * Rebuilds a case's SLA clock from `case_events` alone (the policy snapshot of `case.opened`, the
 * clock events since the last (re)opening) and checks it equals the clock the workflow holds,
 * and gives the same status at the same instant.
 */
export async function expectSlaRecomputable(db: Db, handle: WorkflowHandle, caseId: string) {
  const rows = await db
    .selectFrom('caseEvents')
    .select(['type', 'data'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()
  const policy = (rows[0]!.data as { policy: PolicySnapshot }).policy
  const lastStart = rows.map((r) => r.type).lastIndexOf('case.reopened')
  const clock = rows.slice(Math.max(0, lastStart)).flatMap((r) => {
    const data = r.data as { clock?: SlaClockEvent } | null
    return data?.clock ? [data.clock] : []
  })
  const held = await handle.query(grievanceViewQuery)
  expect(clock).toEqual(held.clock)
  const at = new Date()
  const calendar: BusinessCalendar = policy.calendar
  expect(slaStatus(calendar, clock, at, policy.atRiskRatio)).toEqual(
    slaStatus(held.context.policy.calendar, held.clock, at, held.context.policy.atRiskRatio),
  )
  return slaStatus(calendar, clock, at, policy.atRiskRatio)
}
