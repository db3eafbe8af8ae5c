import { ApplicationFailure } from '@temporalio/workflow'
import type { HumanTask } from '../../kernel/tasks'
import type { AppealDecision, AppealOutcome, AppealState } from './messages'
import { ErrorCode, type Actor } from '../../messages'

/**
 * Pure rules of an appeal. Independence: nobody who decided the contested case reviews the
 * appeal or sits on its committee. The decision is always a person's: a review task completed
 * with an outcome and reasons (and, for a committee, N approvals of that review); no timer ever
 * decides.
 */

/** Task kinds that decide an appeal: the review and the committee's approval. */
export const DECIDING_TASKS = ['appeal_review', 'approval']

export function checkIndependent(s: AppealState, task: HumanTask, actor: Actor): void {
  if (!DECIDING_TASKS.includes(task.kind)) return
  if (actor.userId && s.context.deciders.includes(actor.userId)) {
    throw ApplicationFailure.create({
      message: 'you took part in the contested decision: someone independent reviews this appeal',
      type: ErrorCode.REVIEWER_NOT_INDEPENDENT,
      nonRetryable: true,
    })
  }
}

/** The review's outcome becomes a proposal (committee) or the decision (single reviewer). */
export function afterReview(s: AppealState, review: HumanTask): AppealState {
  const proposal = {
    outcome: review.result!.decision as AppealOutcome,
    reasons: String(review.result!.reasons),
    decidedBy: review.completedBy!,
    decidedAt: review.completedAt!,
  }
  if (s.mode === 'committee') return { ...s, stage: 'committee', proposal }
  return decide({ ...s, proposal: undefined }, { ...proposal, approvedBy: [] })
}

/** The committee approved the review (N of M): it is the decision; a rejection sends it back. */
export function afterCommittee(s: AppealState, approval: HumanTask): AppealState {
  if (approval.result?.decision !== 'approve' || !s.proposal) {
    return { ...s, stage: 'review', proposal: undefined }
  }
  const approvedBy = (approval.approval?.decisions ?? [])
    .filter((d) => d.decision === 'approve')
    .map((d) => d.userId)
  return decide({ ...s, proposal: undefined }, { ...s.proposal, approvedBy })
}

function decide(s: AppealState, decision: AppealDecision): AppealState {
  return {
    ...s,
    decision,
    stage: decision.outcome === 'upheld' ? 'closed' : 'implementation',
  }
}

/** A changed eligibility decision is implemented by a new re-verification of the household. */
export function implementsByReverification(s: AppealState): boolean {
  return s.context.contestedKind === 'reverification' && s.context.householdId !== null
}
