import { ApplicationFailure } from '@temporalio/common'
import { describe, expect, it } from 'vitest'
import { checkIndependent, afterCommittee, afterReview } from '../../workflows/kinds/appeal/state'
import type { AppealState } from '../../workflows/kinds/appeal/messages'
import { ALWAYS_OPEN } from '../../workflows/kernel/calendar'
import type { HumanTask } from '../../workflows/kernel/tasks'
import type { ReferralState } from '../../workflows/kinds/referral/messages'
import {
  accept,
  checkDeclineReason,
  decline,
  lapse,
  legSlaState,
  partnerStatus,
  report,
  reroute,
  routeNext,
} from '../../workflows/kinds/referral/state'

const T0 = new Date('2026-12-01T08:00:00Z')
const at = (seconds: number) => new Date(T0.getTime() + seconds * 1000)

function referral(partners: string[]): ReferralState {
  return {
    caseId: 'RF-1',
    reference: 'RF-1',
    kind: 'referral',
    status: 'open',
    stage: 'routing',
    areaCode: 'ML-2-KATI-KATI',
    priority: 'normal',
    sensitive: false,
    openedAt: T0.toISOString(),
    seq: 0,
    context: {
      policy: {
        policyId: null,
        targets: { partnerResponse: 10_000, delivery: 20_000, followUp: 30_000 },
        atRiskRatio: 0.5,
        calendar: ALWAYS_OPEN,
      },
      areaPath: ['ML-2-KATI-KATI', 'ML-2-KATI', 'ML-2', 'ML'],
      partners,
    },
    serviceCode: 'cash_transfer',
    sourceCaseId: null,
    householdId: null,
    consent: { given: true, method: 'verbal', recordedBy: 'u', recordedAt: T0.toISOString() },
    legs: [],
    tried: [],
    leg: null,
    legStartedAt: null,
    dueAt: null,
    atRiskAt: null,
    tasks: [],
    nextTaskNo: 1,
    handledTasks: [],
    notes: [],
  }
}
const partner = (code: string) => ({
  userId: `user-${code}`,
  role: 'partner' as const,
  partnerCode: code,
})
const code = (fn: () => unknown) => {
  try {
    fn()
  } catch (error) {
    return (error as ApplicationFailure).type
  }
  return undefined
}

describe('referral transitions', () => {
  it('route in coverage order, with the partner-response deadline and its at-risk instant', () => {
    const { state, type } = routeNext(referral(['a', 'b']), T0)
    expect(type).toBe('referral.routed')
    expect(state).toMatchObject({ stage: 'awaiting_partner', tried: ['a'], leg: 'partnerResponse' })
    expect(state.dueAt).toBe(at(10).toISOString())
    expect(legSlaState(state, at(4))).toBe('on_track')
    expect(legSlaState(state, at(6))).toBe('at_risk')
    expect(legSlaState(state, at(10))).toBe('breached')
  })

  it('a decline or a lapse goes to the next partner; none left, to the supervisor; a new round starts over', () => {
    const routed = routeNext(referral(['a', 'b']), T0).state
    const [declined, next] = decline(routed, partner('a'), 'no_capacity', at(1))
    expect(declined!.type).toBe('referral.declined')
    expect(next!.state).toMatchObject({ stage: 'awaiting_partner', tried: ['a', 'b'] })
    expect(partnerStatus(next!.state)).toBe('awaiting_response')
    const [lapsed, none] = lapse(next!.state, at(20))
    expect(lapsed!.after).toMatchObject({ partnerCode: 'b', leg: 'partnerResponse' })
    expect(none!.state.stage).toBe('supervision')
    expect(partnerStatus(none!.state)).toBe('unrouted')
    expect(reroute(none!.state, at(30)).state).toMatchObject({
      tried: ['a'],
      stage: 'awaiting_partner',
    })
  })

  it('only the partner it is routed to answers, at the right stage, with a known reason', () => {
    const routed = routeNext(referral(['a', 'b']), T0).state
    expect(code(() => accept(routed, partner('b'), at(1)))).toBe('REFERRAL_NOT_ROUTED_TO_YOU')
    expect(code(() => accept(routed, { ...partner('a'), partnerCode: null }, at(1)))).toBe(
      'REFERRAL_NOT_ROUTED_TO_YOU',
    )
    expect(code(() => report(routed, partner('a'), 'delivered', at(1)))).toBe('WRONG_STAGE')
    expect(code(() => checkDeclineReason('whatever', undefined))).toBe('INVALID_COMMAND')
    expect(code(() => checkDeclineReason('other', undefined))).toBe('INVALID_COMMAND')
    expect(code(() => checkDeclineReason('other', 'pas de stock'))).toBeUndefined()
    const accepted = accept(routed, partner('a'), at(1)).state
    expect(accepted).toMatchObject({ stage: 'in_service', leg: 'delivery' })
    expect(accepted.dueAt).toBe(at(21).toISOString())
    const reported = report(accepted, partner('a'), 'not_delivered', at(2)).state
    expect(reported).toMatchObject({ stage: 'follow_up', leg: 'followUp' })
    expect(partnerStatus(reported)).toBe('not_delivered')
    // A lapsed follow-up goes to the supervisor, not to another partner.
    expect(lapse(reported, at(100))[0]!.state.stage).toBe('supervision')
  })
})

describe('appeal rules', () => {
  const appeal = (mode: 'single' | 'committee'): AppealState => ({
    caseId: 'AP-1',
    kind: 'appeal',
    status: 'open',
    stage: 'review',
    areaCode: 'ML-2-KATI-KATI',
    priority: 'normal',
    sensitive: false,
    openedAt: T0.toISOString(),
    seq: 0,
    context: {
      policy: {
        policyId: null,
        targets: { review: 1000, implementation: 1000 },
        atRiskRatio: 0.75,
        calendar: ALWAYS_OPEN,
      },
      areaPath: ['ML-2-KATI-KATI', 'ML-2-KATI', 'ML-2', 'ML'],
      deciders: ['decider'],
      contestedKind: 'grievance',
      householdId: null,
    },
    contestedCaseId: 'G-1',
    mode,
    committeeRequired: 2,
    grounds: 'x',
    tasks: [],
    nextTaskNo: 1,
    handledTasks: [],
  })
  const task = (kind: string, result: Record<string, unknown>, extra: Partial<HumanTask> = {}) =>
    ({
      id: 'T',
      kind,
      status: 'completed',
      candidateRole: 'supervisor',
      areaCode: 'ML-2-KATI',
      assigneeId: null,
      requiresClearance: false,
      createdAt: T0.toISOString(),
      dueAt: null,
      result,
      completedBy: 'reviewer',
      completedAt: at(5).toISOString(),
      ...extra,
    }) as HumanTask

  it('nobody who decided the contested case reviews or approves the appeal', () => {
    const s = appeal('single')
    const review = task('appeal_review', {})
    expect(code(() => checkIndependent(s, review, { userId: 'decider', role: 'supervisor' }))).toBe(
      'REVIEWER_NOT_INDEPENDENT',
    )
    expect(
      code(() =>
        checkIndependent(s, task('approval', {}), { userId: 'decider', role: 'supervisor' }),
      ),
    ).toBe('REVIEWER_NOT_INDEPENDENT')
    expect(
      code(() => checkIndependent(s, review, { userId: 'other', role: 'supervisor' })),
    ).toBeUndefined()
    // Implementing a decision is not deciding it.
    expect(
      code(() =>
        checkIndependent(s, task('implementation', {}), { userId: 'decider', role: 'case_worker' }),
      ),
    ).toBeUndefined()
  })

  it('a single review decides; a committee’s approval makes the review the decision, its rejection sends it back', () => {
    const review = task('appeal_review', { decision: 'upheld', reasons: 'fondée sur les faits' })
    expect(afterReview(appeal('single'), review)).toMatchObject({
      stage: 'closed',
      decision: { outcome: 'upheld', decidedBy: 'reviewer', approvedBy: [] },
    })
    const overturned = task('appeal_review', {
      decision: 'overturned',
      reasons: 'erreur de données',
    })
    expect(afterReview(appeal('single'), overturned).stage).toBe('implementation')
    const proposed = afterReview(appeal('committee'), overturned)
    expect(proposed).toMatchObject({ stage: 'committee', proposal: { outcome: 'overturned' } })
    expect(proposed.decision).toBeUndefined()
    const approvals = {
      required: 2,
      proposerId: 'reviewer',
      decisions: [
        { userId: 'm1', decision: 'approve' as const, at: T0.toISOString() },
        { userId: 'm2', decision: 'approve' as const, at: T0.toISOString() },
      ],
    }
    expect(
      afterCommittee(proposed, task('approval', { decision: 'approve' }, { approval: approvals })),
    ).toMatchObject({ stage: 'implementation', decision: { approvedBy: ['m1', 'm2'] } })
    const sentBack = afterCommittee(proposed, task('approval', { decision: 'reject' }))
    expect(sentBack.stage).toBe('review')
    expect(sentBack.proposal).toBeUndefined()
    expect(sentBack.decision).toBeUndefined()
  })
})
