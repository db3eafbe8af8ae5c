import { ApplicationFailure } from '@temporalio/workflow'
import { addWorkingTime } from '../../kernel/calendar'
import { ErrorCode, type Actor } from '../../messages'
import {
  DECLINE_REASONS,
  type DeclineReason,
  type PartnerActor,
  type PartnerStatus,
  type ReferralLeg,
  type ReferralState,
} from './messages'

/**
 * Pure transitions of a referral: each takes the state and a command or a fact and returns the
 * new state with the event to record. A refused command throws a non-retryable ApplicationFailure
 * whose type is a stable ErrorCode (the Update is rejected and nothing is recorded).
 */

export interface Transition {
  state: ReferralState
  type: string
  after: Record<string, unknown>
}

function refuse(code: ErrorCode, message: string): never {
  throw ApplicationFailure.create({ message, type: code, nonRetryable: true })
}

const current = (s: ReferralState): ReferralLeg | undefined => s.legs[s.legs.length - 1]

/** Starts a leg's clock: its deadline and at-risk instant in working time. */
export function startLeg(
  s: ReferralState,
  leg: NonNullable<ReferralState['leg']>,
  now: Date,
): ReferralState {
  const { calendar, targets, atRiskRatio } = s.context.policy
  const target = targets[leg]
  return {
    ...s,
    leg,
    legStartedAt: now.toISOString(),
    dueAt: addWorkingTime(calendar, now, target).toISOString(),
    atRiskAt: addWorkingTime(calendar, now, Math.round(target * atRiskRatio)).toISOString(),
  }
}

const stopLeg = (s: ReferralState): ReferralState => ({
  ...s,
  leg: null,
  legStartedAt: null,
  dueAt: null,
  atRiskAt: null,
})

/**
 * Routes to the next partner of the coverage order not yet tried in this round; when none is
 * left, the referral goes to the supervisor (stage `supervision`).
 */
export function routeNext(s: ReferralState, now: Date): Transition {
  const next = s.context.partners.find((p) => !s.tried.includes(p))
  if (!next) {
    return {
      state: { ...stopLeg(s), stage: 'supervision' },
      type: 'referral.unrouted',
      after: { stage: 'supervision', tried: s.tried },
    }
  }
  const leg: ReferralLeg = {
    partnerCode: next,
    routedAt: now.toISOString(),
    status: 'awaiting_response',
  }
  const state = startLeg(
    { ...s, stage: 'awaiting_partner', legs: [...s.legs, leg], tried: [...s.tried, next] },
    'partnerResponse',
    now,
  )
  return {
    state,
    type: 'referral.routed',
    after: { partnerCode: next, stage: 'awaiting_partner', dueAt: state.dueAt },
  }
}

/** A partner command comes from the partner the referral is routed to, at the right stage. */
export function checkPartnerCommand(
  s: ReferralState,
  actor: PartnerActor,
  stage: ReferralState['stage'],
): ReferralLeg {
  if (s.status === 'closed') refuse(ErrorCode.CASE_CLOSED, `referral ${s.caseId} is closed`)
  const leg = current(s)
  if (!actor.partnerCode || !leg || leg.partnerCode !== actor.partnerCode) {
    refuse(ErrorCode.REFERRAL_NOT_ROUTED_TO_YOU, 'this referral is not routed to your organisation')
  }
  if (s.stage !== stage) {
    refuse(ErrorCode.WRONG_STAGE, `the referral is at stage ${s.stage}, not ${stage}`)
  }
  return leg
}

const replaceLeg = (s: ReferralState, leg: ReferralLeg): ReferralLeg[] => [
  ...s.legs.slice(0, -1),
  leg,
]

/** The partner takes the referral: the delivery leg starts. */
export function accept(s: ReferralState, actor: PartnerActor, now: Date): Transition {
  const leg = checkPartnerCommand(s, actor, 'awaiting_partner')
  const done: ReferralLeg = { ...leg, status: 'accepted', respondedAt: now.toISOString() }
  const state = startLeg({ ...s, stage: 'in_service', legs: replaceLeg(s, done) }, 'delivery', now)
  return {
    state,
    type: 'referral.accepted',
    after: { partnerCode: leg.partnerCode, stage: 'in_service', dueAt: state.dueAt },
  }
}

export function checkDeclineReason(reason: unknown, note: unknown): DeclineReason {
  if (!DECLINE_REASONS.includes(reason as DeclineReason)) {
    refuse(ErrorCode.INVALID_COMMAND, `a decline needs a reason: ${DECLINE_REASONS.join(', ')}`)
  }
  if (note !== undefined && (typeof note !== 'string' || note.length > 2000)) {
    refuse(ErrorCode.INVALID_COMMAND, 'a note is text of at most 2000 characters')
  }
  if (reason === 'other' && (typeof note !== 'string' || note.trim().length < 3)) {
    refuse(ErrorCode.INVALID_COMMAND, 'the reason "other" needs a note')
  }
  return reason as DeclineReason
}

/** The partner declines with a reason: the referral goes to the next partner (or supervisor). */
export function decline(
  s: ReferralState,
  actor: PartnerActor,
  reason: DeclineReason,
  now: Date,
): Transition[] {
  const leg = checkPartnerCommand(s, actor, 'awaiting_partner')
  const done: ReferralLeg = {
    ...leg,
    status: 'declined',
    declineReason: reason,
    respondedAt: now.toISOString(),
  }
  const declined: Transition = {
    state: { ...stopLeg(s), stage: 'routing', legs: replaceLeg(s, done) },
    type: 'referral.declined',
    after: { partnerCode: leg.partnerCode, reason },
  }
  return [declined, routeNext(declined.state, now)]
}

/** The partner reports the service delivered or not: our follow-up leg starts. */
export function report(
  s: ReferralState,
  actor: PartnerActor,
  outcome: 'delivered' | 'not_delivered',
  now: Date,
): Transition {
  const leg = checkPartnerCommand(s, actor, 'in_service')
  if (outcome !== 'delivered' && outcome !== 'not_delivered') {
    refuse(ErrorCode.INVALID_COMMAND, 'the outcome is delivered or not_delivered')
  }
  const done: ReferralLeg = { ...leg, status: outcome, reportedAt: now.toISOString() }
  const state = startLeg({ ...s, stage: 'follow_up', legs: replaceLeg(s, done) }, 'followUp', now)
  return {
    state,
    type: 'referral.reported',
    after: { partnerCode: leg.partnerCode, outcome, stage: 'follow_up', dueAt: state.dueAt },
  }
}

/**
 * A leg's deadline passed. A partner's lapsed leg (no answer, no delivery report) re-routes to
 * the next partner; a lapsed follow-up goes to the supervisor.
 */
export function lapse(s: ReferralState, now: Date): Transition[] {
  const leg = current(s)
  if (s.leg === 'followUp' || !leg) {
    return [
      {
        state: { ...stopLeg(s), stage: 'supervision' },
        type: 'referral.lapsed',
        after: { leg: s.leg, stage: 'supervision' },
      },
    ]
  }
  const lapsed: Transition = {
    state: {
      ...stopLeg(s),
      stage: 'routing',
      legs: replaceLeg(s, { ...leg, status: 'lapsed' }),
    },
    type: 'referral.lapsed',
    after: { leg: s.leg, partnerCode: leg.partnerCode },
  }
  return [lapsed, routeNext(lapsed.state, now)]
}

/** A supervisor's new round: every partner may be tried again. */
export function reroute(s: ReferralState, now: Date): Transition {
  return routeNext({ ...s, tried: [] }, now)
}

/** The partner's status as the read model shows it. */
export function partnerStatus(s: ReferralState): PartnerStatus {
  if (s.status === 'closed') return 'closed'
  if (s.stage === 'supervision' || s.stage === 'routing') return 'unrouted'
  const leg = current(s)
  return leg?.status === 'declined' || leg?.status === 'lapsed' || !leg ? 'unrouted' : leg.status
}

/** The partner the referral is with now (null while with the supervisor or closed). */
export function currentPartner(s: ReferralState): string | null {
  if (s.status === 'closed' || s.stage === 'supervision' || s.stage === 'routing') return null
  return current(s)?.partnerCode ?? null
}

/** SLA state of the running leg at `now`. */
export function legSlaState(s: ReferralState, now: Date): string {
  if (s.status === 'closed') return 'met'
  if (!s.dueAt) return 'on_track'
  if (now.getTime() >= Date.parse(s.dueAt)) return 'breached'
  if (s.atRiskAt && now.getTime() >= Date.parse(s.atRiskAt)) return 'at_risk'
  return 'on_track'
}

export const isStaff = (actor: Actor) =>
  actor.userId !== null && ['case_worker', 'supervisor', 'programme_manager'].includes(actor.role)
