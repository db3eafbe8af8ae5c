import { defineQuery } from '@temporalio/workflow'
import { z } from 'zod'
import type { SlaClockEvent, SlaStatus } from '../../kernel/sla'
import type { HumanTask } from '../../kernel/tasks'
import type {
  Actor,
  CaseContext,
  CaseLinkKind,
  CaseNote,
  CaseSnapshot,
  Priority,
} from '../../messages'
import type { PmtFormula } from './pmt'

/**
 * The contract of household re-verification: inputs, state, task forms and queries. Task
 * commands (claim, complete…) and closing reuse the shared Updates of `messages.ts`, so the
 * tasks API serves every case kind alike.
 */

/** Case id of the re-verification a grievance (or appeal) spawns: derived, never personal. */
export function spawnedReverificationId(parentCaseId: string): string {
  return `RV-${parentCaseId}`
}

export type ReverificationTrigger = 'grievance' | 'appeal' | 'manager' | 'campaign' | 'schedule'

export interface OpenReverificationInput {
  caseId: string
  /** The registry's household identifier (projected, never in the workflow id). */
  householdId: string
  /** The household's commune when the caller knows it; the registry's copy wins. */
  areaCode?: string
  trigger: ReverificationTrigger
  /** The grievance or appeal that spawned it. */
  parentCaseId?: string
  campaignId?: string
  priority?: Priority
  openedBy: Actor
}

export type ReverificationInput = OpenReverificationInput | { resume: ReverificationState }

export type ReverificationStage =
  'opening' | 'visit' | 'approval' | 'registry_update' | 'notification' | 'review' | 'closed'

export type VisitOutcome = 'visited' | 'absent' | 'access_impossible' | 'refused'

export interface VisitAttempt {
  no: number
  taskId: string
  outcome: VisitOutcome
  reason?: string
  by: string | null
  at: string
}

/** Visits before the household is declared unreachable, and the wait before a revisit. */
export interface ReverificationPolicy {
  maxVisitAttempts: number
  revisitDelayMs: number
}

export interface EligibilityProposal {
  visitNo: number
  members: number
  score: number
  formulaVersion: string
  eligible: boolean
  previousScore: number | null
  previousEligible: boolean | null
  change: 'include' | 'exclude' | 'none'
  /** The enumerator whose visit produced it: never the one who approves it (four eyes). */
  proposedBy: string | null
  approved: boolean | null
}

export interface ReverificationState extends CaseSnapshot {
  stage: ReverificationStage
  /** Kernel fields (escalation ladder, alerts sent, notes, links). */
  escalationLevel?: number
  alerted?: string[]
  notes?: CaseNote[]
  links?: { toCaseId: string; kind: CaseLinkKind }[]
  householdId: string
  trigger: ReverificationTrigger
  parentCaseId?: string
  campaignId?: string
  context: CaseContext
  policy: ReverificationPolicy
  /** The household as the registry gave it when the case opened. */
  household: { members: number; pmtScore: number | null; eligible: boolean | null } | null
  tasks: HumanTask[]
  nextTaskNo: number
  clock: SlaClockEvent[]
  attempts: VisitAttempt[]
  /** The formula in force when the household was scored, snapshotted with its version. */
  formula?: PmtFormula
  proposal?: EligibilityProposal
  registryWrite?: { idempotencyKey: string; reference: string | null; at: string }
  reviewReason?: 'unreachable' | 'refused' | 'registry_rejected' | 'household_not_found'
  nextVisitAt?: string
}

export interface ReverificationView extends ReverificationState {
  sla: SlaStatus
}

export const reverificationViewQuery = defineQuery<ReverificationView>('reverificationView')

/** Welfare variables: codes of the PMT formula (`members`, `rooms`…) with their values. */
const variables = z
  .record(z.string().regex(/^[a-z][a-z0-9_]{0,39}$/), z.number().finite().min(0).max(1_000_000))
  .refine((v) => Object.keys(v).length <= 40, { message: 'at most 40 variables' })

const reschedule = z.iso.datetime({ offset: true }).optional()

/** The enumerator's visit: the updated data, or why the visit could not happen. */
export const visitForm = z.discriminatedUnion('outcome', [
  z.object({
    outcome: z.literal('visited'),
    members: z.number().int().min(1).max(60),
    variables,
  }),
  z.object({ outcome: z.literal('absent'), rescheduleAt: reschedule }),
  z.object({
    outcome: z.literal('access_impossible'),
    reason: z.enum(['security', 'natural_hazard', 'road_closed', 'other']),
    rescheduleAt: reschedule,
  }),
  z.object({ outcome: z.literal('refused') }),
])
export type VisitForm = z.infer<typeof visitForm>

/** A supervisor's review of a household that could not be re-verified. */
export const unreachableReviewForm = z.object({
  decision: z.enum(['confirm_unreachable', 'new_visit']),
})
export type UnreachableReviewForm = z.infer<typeof unreachableReviewForm>

/** A supervisor's acknowledgement that the registry refused the change for good. */
export const registryReviewForm = z.object({
  decision: z.enum(['close', 'new_visit']),
})
export type RegistryReviewForm = z.infer<typeof registryReviewForm>

export const ReverificationErrorCode = {
  HOUSEHOLD_NOT_FOUND: 'HOUSEHOLD_NOT_FOUND',
  REGISTRY_REJECTED: 'REGISTRY_REJECTED',
} as const

/** The activity's view of one registry write: what to send and under which key. */
export interface RegistryWriteRequest {
  idempotencyKey: string
  caseId: string
  householdId: string
  score: number
  formulaVersion: string
  eligible: boolean
  members: number
  decidedAt: string
}

export interface CampaignInput {
  campaignId: string
}
export interface CampaignProgress {
  total: number
  started: number
  failed: number
  pending: number
}

export interface RecertificationSweepInput {
  /** A household is due when its last score is older than this (e.g. 3 years). */
  maxAgeMs: number
  /** Households started per sweep, so that one sweep never floods the enumerators. */
  limit: number
  taskQueue?: string
}
