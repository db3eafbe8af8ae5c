import { defineQuery } from '@temporalio/workflow'
import { z } from 'zod'
import type { BusinessCalendar } from '../../kernel/calendar'
import type { HumanTask } from '../../kernel/tasks'
import type { Actor, CaseKind, CaseSnapshot, Priority } from '../../messages'

/**
 * The appeal's contract: a household contests an eligibility decision (a re-verification) or a
 * grievance outcome; someone independent of that decision reviews it (or a committee approves
 * the review, N of M), and decides with reasons. Types, forms and the query only.
 */

export interface AppealContext {
  /** History length after which the case continues as new (operators may lower it). */
  historyLimit?: number
  policy: {
    policyId: number | null
    /** Working milliseconds: the review, and the implementation of a changed decision. */
    targets: { review: number; implementation: number; resolve?: number; escalationRepeat?: number }
    atRiskRatio: number
    calendar: BusinessCalendar
  }
  /** The appeal's area and its ancestors: [commune, cercle, region, national]. */
  areaPath: string[]
  /** Everyone who decided the contested case (from its audit log): never a reviewer. */
  deciders: string[]
  contestedKind: CaseKind
  householdId: string | null
}

export interface OpenAppealInput {
  caseId: string
  reference: string
  contestedCaseId: string
  areaCode: string
  sensitive: boolean
  priority: Priority
  /** The staff member who registered the appeal for the household. */
  openedBy: Actor
  /** A single independent reviewer, or a review approved by a committee (N of M). */
  mode: 'single' | 'committee'
  /** Approvals a committee needs (N of M). */
  committeeRequired?: number
  /** What the household says: only in the (encrypted) history. */
  grounds: string
}

export type AppealInput = OpenAppealInput | { resume: AppealState }

export type AppealStage = 'review' | 'committee' | 'implementation' | 'closed'
export type AppealOutcome = 'upheld' | 'overturned' | 'partly'

export interface AppealDecision {
  outcome: AppealOutcome
  /** Free text, kept in the history and the live state only. */
  reasons: string
  /** The reviewer: the human decision of record. */
  decidedBy: string
  decidedAt: string
  /** Committee members who approved it (committee mode). */
  approvedBy: string[]
}

export interface AppealState extends CaseSnapshot {
  stage: AppealStage
  context: AppealContext
  contestedCaseId: string
  mode: 'single' | 'committee'
  committeeRequired: number
  grounds: string
  tasks: HumanTask[]
  nextTaskNo: number
  handledTasks: string[]
  /** The reviewer's proposal while a committee decides on it. */
  proposal?: Omit<AppealDecision, 'approvedBy'>
  decision?: AppealDecision
  /** The re-verification started to implement a changed eligibility decision. */
  implementationCaseId?: string
}

export const appealReviewForm = z.object({
  decision: z.enum(['upheld', 'overturned', 'partly']),
  reasons: z.string().trim().min(10).max(5000),
})
export const implementationForm = z.object({
  action: z.enum(['registry_updated', 'payment_corrected', 'grievance_reopened', 'other']),
  note: z.string().trim().max(2000).optional(),
})

export const appealViewQuery = defineQuery<AppealState>('appealView')

export type { Actor }
