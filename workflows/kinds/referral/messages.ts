import { defineQuery, defineUpdate } from '@temporalio/workflow'
import type { BusinessCalendar } from '../../kernel/calendar'
import type { HumanTask } from '../../kernel/tasks'
import type { SlaClockEvent } from '../../kernel/sla'
import type { Actor, CaseLinkKind, CaseSnapshot, Priority } from '../../messages'

/**
 * The referral's contract: a household referred to a service of the integrated protection package,
 * delivered by a partner organisation. Types and message definitions only (imported by `api/`).
 */

/** Working milliseconds of each leg, from the referral policy snapshotted at opening. */
export interface ReferralPolicy {
  policyId: number | null
  targets: {
    /** The partner accepts or declines. */
    partnerResponse: number
    /** The partner reports the service delivered or not. */
    delivery: number
    /** Our case worker follows up with the household. */
    followUp: number
    /** The whole referral (working ms), and the delay before the next escalation level. */
    resolve?: number
    escalationRepeat?: number
  }
  atRiskRatio: number
  calendar: BusinessCalendar
}

export interface ReferralContext {
  /** History length after which the case continues as new (operators may lower it). */
  historyLimit?: number
  policy: ReferralPolicy
  /** The referral's area and its ancestors: [commune, cercle, region, national]. */
  areaPath: string[]
  /** Active partners delivering the service in the area, in coverage order (priority, code). */
  partners: string[]
}

/** How consent was recorded: who, when, how; or its audited override. */
export interface Consent {
  given: boolean
  method: 'verbal' | 'written' | 'thumbprint' | null
  recordedBy: string | null
  recordedAt: string
  /** Set when a referral of a sensitive case went without consent (a separate permission). */
  overriddenBy?: string | null
  overrideReason?: string
}

export interface OpenReferralInput {
  caseId: string
  reference: string
  /** The case the referral comes from (a grievance, a re-verification), if any. */
  sourceCaseId: string | null
  serviceCode: string
  areaCode: string
  /** Registry household id (pseudonymous), passed to the partner that accepts. */
  householdId: string | null
  sensitive: boolean
  priority: Priority
  openedBy: Actor
  consent: Consent
}

export type ReferralInput = OpenReferralInput | { resume: ReferralState }

/** Where the referral stands with its partner, as the read model shows it. */
export type PartnerStatus =
  'awaiting_response' | 'accepted' | 'delivered' | 'not_delivered' | 'unrouted' | 'closed'

export type ReferralStage =
  'routing' | 'awaiting_partner' | 'in_service' | 'follow_up' | 'supervision' | 'closed'

export type DeclineReason =
  'no_capacity' | 'not_eligible' | 'out_of_area' | 'household_unreachable' | 'other'
export const DECLINE_REASONS: readonly DeclineReason[] = [
  'no_capacity',
  'not_eligible',
  'out_of_area',
  'household_unreachable',
  'other',
]

/** One partner's turn: routed, then accepted / declined / lapsed, then delivered or not. */
export interface ReferralLeg {
  partnerCode: string
  routedAt: string
  status: 'awaiting_response' | 'accepted' | 'declined' | 'lapsed' | 'delivered' | 'not_delivered'
  declineReason?: DeclineReason
  respondedAt?: string
  reportedAt?: string
}

export interface ReferralState extends CaseSnapshot {
  stage: ReferralStage
  context: ReferralContext
  serviceCode: string
  sourceCaseId: string | null
  householdId: string | null
  consent: Consent
  legs: ReferralLeg[]
  /** Partners already tried in this round of routing (a supervisor may start a new round). */
  tried: string[]
  /** The running leg's deadline and name. */
  leg: 'partnerResponse' | 'delivery' | 'followUp' | null
  legStartedAt: string | null
  dueAt: string | null
  atRiskAt: string | null
  tasks: HumanTask[]
  nextTaskNo: number
  /** Completed tasks whose result the workflow has acted on. */
  handledTasks: string[]
  /** Free text stays here (the encrypted history), never in PostgreSQL. */
  /** Staff notes and the partners' notes on a decline or a report (role `partner`). */
  notes: { no?: number; by: string | null; role?: string; at: string; text: string }[]
  /** Kernel fields: the whole referral's clock, escalation ladder, alerts sent, links. */
  clock?: SlaClockEvent[]
  escalationLevel?: number
  alerted?: string[]
  links?: { toCaseId: string; kind: CaseLinkKind }[]
}

export type ReferralView = ReferralState

/** A partner user, or a partner system's token, acting for its organisation. */
export interface PartnerActor extends Actor {
  partnerCode: string | null
}

export interface AcceptReferralCommand {
  actor: PartnerActor
}
export interface DeclineReferralCommand {
  actor: PartnerActor
  reason: DeclineReason
  note?: string
}
export interface ReportReferralCommand {
  actor: PartnerActor
  outcome: 'delivered' | 'not_delivered'
  note?: string
}

export const referralViewQuery = defineQuery<ReferralView>('referralView')
export const acceptReferralUpdate = defineUpdate<ReferralView, [AcceptReferralCommand]>(
  'acceptReferral',
)
export const declineReferralUpdate = defineUpdate<ReferralView, [DeclineReferralCommand]>(
  'declineReferral',
)
export const reportReferralUpdate = defineUpdate<ReferralView, [ReportReferralCommand]>(
  'reportReferral',
)
