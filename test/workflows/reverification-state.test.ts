import { describe, expect, it } from 'vitest'
import { pmtScore, type PmtFormula } from '../../workflows/kinds/reverification/pmt'
import type {
  ReverificationPolicy,
  VisitAttempt,
} from '../../workflows/kinds/reverification/messages'
import {
  afterVisit,
  failedAttempts,
  proposeEligibility,
  registryWriteKey,
} from '../../workflows/kinds/reverification/state'

const formula: PmtFormula = {
  version: 'pmt-test-v2',
  intercept: 40,
  weights: { members: -2, rooms: 1.5, improved_roof: 4 },
  threshold: 25,
}
const policy: ReverificationPolicy = { maxVisitAttempts: 2, revisitDelayMs: 60_000 }
const attempt = (outcome: VisitAttempt['outcome'], no: number): VisitAttempt => ({
  no,
  taskId: `RV-1-T${no}`,
  outcome,
  by: null,
  at: '2026-11-29T08:00:00.000Z',
})
const now = new Date('2026-11-29T09:00:00.000Z')

describe('the proxy means test', () => {
  it('adds the weighted variables to the intercept and records the formula version', () => {
    // 40 − 2×8 + 1.5×2 + 4×0 = 27: above the threshold, not eligible.
    expect(pmtScore(formula, { members: 8, rooms: 2, improved_roof: 0 })).toEqual({
      score: 27,
      eligible: false,
      formulaVersion: 'pmt-test-v2',
    })
    // One more member: 25, at the threshold, eligible.
    expect(pmtScore(formula, { members: 9, rooms: 2 }).eligible).toBe(true)
  })

  it('ignores variables the formula does not weigh, and a missing one counts as zero', () => {
    expect(pmtScore(formula, { members: 5, goats: 30 }).score).toBe(30)
  })
})

describe('after a visit', () => {
  it('scores a visited household', () => {
    expect(
      afterVisit(
        { attempts: [attempt('visited', 1)], policy },
        { outcome: 'visited', members: 3, variables: {} },
        now,
      ),
    ).toEqual({ next: 'score' })
  })

  it('reschedules an absent household at the requested time, or after the policy delay', () => {
    const attempts = [attempt('absent', 1)]
    expect(
      afterVisit(
        { attempts, policy },
        { outcome: 'absent', rescheduleAt: '2026-12-01T10:00:00Z' },
        now,
      ),
    ).toEqual({ next: 'revisit', at: '2026-12-01T10:00:00.000Z' })
    expect(afterVisit({ attempts, policy }, { outcome: 'absent' }, now)).toEqual({
      next: 'revisit',
      at: '2026-11-29T09:01:00.000Z',
    })
  })

  it('declares the household unreachable once the failed attempts reach the policy', () => {
    const attempts = [attempt('absent', 1), attempt('access_impossible', 2)]
    expect(failedAttempts(attempts)).toBe(2)
    expect(
      afterVisit({ attempts, policy }, { outcome: 'access_impossible', reason: 'security' }, now),
    ).toEqual({ next: 'review', reason: 'unreachable' })
  })

  it('sends a refusal to a supervisor at once', () => {
    expect(
      afterVisit({ attempts: [attempt('refused', 1)], policy }, { outcome: 'refused' }, now),
    ).toEqual({
      next: 'review',
      reason: 'refused',
    })
  })
})

describe('the eligibility proposal', () => {
  it('compares the new eligibility with the registry’s and keeps who proposed it', () => {
    const proposal = proposeEligibility(
      { household: { members: 6, pmtScore: 31, eligible: false } },
      { outcome: 'visited', members: 9, variables: { rooms: 2 } },
      formula,
      3,
      'enumerator-id',
    )
    expect(proposal).toMatchObject({
      visitNo: 3,
      score: 25,
      eligible: true,
      previousScore: 31,
      previousEligible: false,
      change: 'include',
      formulaVersion: 'pmt-test-v2',
      proposedBy: 'enumerator-id',
    })
    expect(registryWriteKey('case-RV-1', proposal)).toBe('case-RV-1:eligibility:3')
  })
})
