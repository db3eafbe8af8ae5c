import { pmtScore, type PmtFormula } from './pmt'
import type { EligibilityProposal, ReverificationState, VisitAttempt, VisitForm } from './messages'

/**
 * Pure transitions of a re-verification, unit-tested without a server: what a visit's outcome
 * leads to, the proposal a new score makes, and the registry write's idempotency key.
 */

export type AfterVisit =
  | { next: 'score' }
  | { next: 'revisit'; at: string }
  | { next: 'review'; reason: 'unreachable' | 'refused' }

/** Failed attempts are the visits that did not reach the household (absent, no access). */
export function failedAttempts(attempts: VisitAttempt[]): number {
  return attempts.filter((a) => a.outcome === 'absent' || a.outcome === 'access_impossible').length
}

/**
 * After a visit: visited → score it; refused → a supervisor reviews; absent or access impossible
 * → revisit at the requested time (or after the policy's delay), until the policy's number of
 * attempts is spent, then the household is unreachable and a supervisor reviews.
 */
export function afterVisit(
  state: Pick<ReverificationState, 'attempts' | 'policy'>,
  form: VisitForm,
  now: Date,
): AfterVisit {
  if (form.outcome === 'visited') return { next: 'score' }
  if (form.outcome === 'refused') return { next: 'review', reason: 'refused' }
  if (failedAttempts(state.attempts) >= state.policy.maxVisitAttempts) {
    return { next: 'review', reason: 'unreachable' }
  }
  const earliest = now.getTime() + state.policy.revisitDelayMs
  const asked = form.rescheduleAt ? Date.parse(form.rescheduleAt) : NaN
  // A reschedule in the past is a revisit now; none given, the policy's delay.
  const at = Number.isFinite(asked) ? Math.max(asked, now.getTime()) : earliest
  return { next: 'revisit', at: new Date(at).toISOString() }
}

export function attemptOf(
  no: number,
  taskId: string,
  form: VisitForm,
  by: string | null,
  at: string,
): VisitAttempt {
  return {
    no,
    taskId,
    outcome: form.outcome,
    ...(form.outcome === 'access_impossible' ? { reason: form.reason } : {}),
    by,
    at,
  }
}

/** The new score under the formula in force, and the eligibility change it proposes. */
export function proposeEligibility(
  state: Pick<ReverificationState, 'household'>,
  visit: Extract<VisitForm, { outcome: 'visited' }>,
  formula: PmtFormula,
  visitNo: number,
  proposedBy: string | null,
): EligibilityProposal {
  const scored = pmtScore(formula, { ...visit.variables, members: visit.members })
  const previousEligible = state.household?.eligible ?? null
  const change =
    previousEligible === scored.eligible ? 'none' : scored.eligible ? 'include' : 'exclude'
  return {
    visitNo,
    members: visit.members,
    score: scored.score,
    formulaVersion: scored.formulaVersion,
    eligible: scored.eligible,
    previousScore: state.household?.pmtScore ?? null,
    previousEligible,
    change,
    proposedBy,
    approved: null,
  }
}

/** One key per case and decision: a retried or repeated write is the same transaction. */
export function registryWriteKey(workflowId: string, proposal: EligibilityProposal): string {
  return `${workflowId}:eligibility:${proposal.visitNo}`
}
