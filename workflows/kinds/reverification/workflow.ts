import {
  ActivityFailure,
  ApplicationFailure,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow'
import type { CaseActivities } from '../../../activities'
import { createKernel } from '../../kernel/case'
import { caseKinds } from '..'
import { local, stateHolder } from '../../kernel/reference'
import { registerCaseHandlers, registerTaskHandlers } from '../../kernel/handlers'
import type { SlaClockEvent } from '../../kernel/sla'
import { findTask } from '../../kernel/tasks'
import { createWatcher } from '../../kernel/watcher'
import { legacyReverificationWorkflow } from '../../legacy/reverification'
import {
  caseOpenedUpdate,
  caseViewQuery,
  KERNEL_PATCH,
  SYSTEM_ACTOR,
  type CaseSnapshot,
} from '../../messages'
import {
  ReverificationErrorCode,
  reverificationViewQuery,
  type OpenReverificationInput,
  type RegistryReviewForm,
  type ReverificationInput,
  type ReverificationState,
  type UnreachableReviewForm,
  type VisitForm,
} from './messages'
import { afterVisit, attemptOf, proposeEligibility, registryWriteKey } from './state'

// Reference data, scores and formulas read or write PostgreSQL: local activities retried without
// end (an outage delays the case, never loses it).
const { loadCaseContext, loadReverificationPolicy, loadActivePmtFormula, recordHouseholdScore } =
  local

// A registry that is down delays the case, never fails it: attempts are unbounded, the backoff is
// capped at a minute. Only a refusal for good stops the retries; the workflow hands it to a person.
const { fetchHousehold, writeRegistryEligibility } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ReverificationErrorCode.REGISTRY_REJECTED],
  },
})

/**
 * A household re-verification: the household read from the registry → a visit task for an
 * enumerator of its commune, rescheduled when the household is absent or access impossible (the
 * clock paused meanwhile), reviewed by a supervisor after too many failed attempts → the visit's
 * data scored by the formula in force → the proposed eligibility approved by a supervisor who did
 * not visit (four eyes) → the registry updated once → the household notified → closed.
 */
export async function reverificationWorkflow(input: ReverificationInput): Promise<CaseSnapshot> {
  if (!patched(KERNEL_PATCH)) return legacyReverificationWorkflow(input)
  const { workflowId } = workflowInfo()
  const holder = stateHolder<ReverificationState>('resume' in input ? input.resume : undefined)
  const current = holder.current
  const now = () => new Date()
  const k = createKernel<ReverificationState>({
    state: current,
    freeText: caseKinds.reverification.freeText,
    snapshot: () => ({ householdId: current().householdId, parentCaseId: current().parentCaseId }),
  })
  const { emit, appendClock } = k
  const close = k.close
  const setStage = k.setStage
  /** Opens a task for the given person, or for the one the workload picks in its area. */
  const openTask = (
    kind: string,
    o: {
      role: 'case_worker' | 'supervisor'
      areaCode: string
      assigneeId?: string | null
      approvalOf?: string | null
      sentBackReason?: string
      dueInMs?: number
    },
  ) =>
    k.openTask(kind, {
      role: o.role,
      areaCode: o.areaCode,
      ...(o.assigneeId ? { assigneeId: o.assigneeId } : {}),
      targetMs: o.dueInMs,
      approval:
        o.approvalOf !== undefined
          ? { required: 1, proposerId: o.approvalOf, decisions: [] }
          : undefined,
      sentBackReason: o.sentBackReason,
    })

  registerTaskHandlers(k, { forms: caseKinds.reverification.forms })
  // Closing or withdrawing a re-verification is a supervisor's decision.
  registerCaseHandlers(k, {
    closeBy: ['supervisor', 'programme_manager'],
    withdrawBy: ['supervisor', 'programme_manager'],
  })
  setHandler(reverificationViewQuery, () => ({ ...current(), sla: k.sla()! }))
  setHandler(caseViewQuery, () => ({ ...current(), sla: k.sla() ?? null }))
  setHandler(
    caseOpenedUpdate,
    async () => {
      const projected = await k.rec.answer()
      return { ...current(), projected }
    },
    // A validator, so that the command-proof interceptor (workflows/interceptors.ts) checks it.
    { validator: () => undefined },
  )

  // ---- Opening: the household from the registry (waits while the registry is down). ----

  if (!holder.opened()) {
    const opening = input as OpenReverificationInput
    const household = await k.rec.outside(() => fetchHousehold(opening.householdId))
    const areaCode = household?.areaCode ?? opening.areaCode ?? 'ML'
    const priority = opening.priority ?? 'normal'
    const context = await loadCaseContext({ kind: 'reverification', priority, areaCode })
    const policy = await loadReverificationPolicy()
    const openedAt = now().toISOString()
    const started: SlaClockEvent = {
      type: 'started',
      at: openedAt,
      targetMs: context.policy.targets.resolve,
    }
    holder.set({
      caseId: opening.caseId,
      kind: 'reverification',
      status: 'open',
      stage: 'opening',
      areaCode,
      priority,
      sensitive: false,
      openedAt,
      seq: 0,
      householdId: opening.householdId,
      trigger: opening.trigger,
      ...(opening.parentCaseId ? { parentCaseId: opening.parentCaseId } : {}),
      ...(opening.campaignId ? { campaignId: opening.campaignId } : {}),
      context,
      policy,
      household: household
        ? { members: household.members, pmtScore: household.pmtScore, eligible: household.eligible }
        : null,
      tasks: [],
      nextTaskNo: 1,
      clock: [started],
      escalationLevel: 0,
      alerted: [],
      attempts: [],
    })
    k.recordOpening(
      opening.openedBy,
      {
        trigger: opening.trigger,
        householdId: opening.householdId,
        campaignId: opening.campaignId ?? null,
      },
      {
        data: { clock: started, policy: context.policy, areaPath: context.areaPath },
        // The grievance (or appeal) spawned this case: the chain the console shows.
        links: opening.parentCaseId
          ? [{ fromCaseId: opening.parentCaseId, toCaseId: opening.caseId, kind: 'spawned' }]
          : [],
        // The household is told the outcome where the parent case's complainant is reached.
        ...(opening.parentCaseId ? { copyContactFrom: opening.parentCaseId } : {}),
      },
    )
    if (!household) {
      current().reviewReason = 'household_not_found'
      close('household_not_found', SYSTEM_ACTOR)
    }
  } else k.opened()

  // ---- The lifecycle. ----

  const s = current()
  const commune = () => current().context.areaPath[0]!
  const cercle = () => current().context.areaPath[1] ?? commune()
  const waitFor = (taskId: string) => k.waitTask(taskId)
  const visitTarget = () => current().context.policy.targets.investigation
  const closed = () => current().status === 'closed'

  let sendBack: { assigneeId: string | null; reason: string } | undefined
  // A run continued as new picks the next visit up again from the state.
  let visitDueAt: number | undefined = s.nextVisitAt ? Date.parse(s.nextVisitAt) : undefined

  const step = async () => {
    // A visit, rescheduled until it happens, the attempts run out, or the household refuses.
    if (visitDueAt !== undefined) {
      const wait = visitDueAt - Date.now()
      const seen = k.version()
      if (wait > 0) await k.rec.wait(() => closed() || k.version() !== seen, wait)
      if (closed()) return
      if (Date.now() < visitDueAt) return
      const resumed = appendClock({ type: 'resumed', at: now().toISOString() })
      if (resumed)
        emit('sla.resumed', SYSTEM_ACTOR, null, { clock: 'resumed' }, { data: { clock: resumed } })
      visitDueAt = undefined
      s.nextVisitAt = undefined
    }
    setStage('visit')
    const visit = await openTask('visit', {
      role: 'case_worker',
      areaCode: commune(),
      assigneeId: sendBack?.assigneeId ?? undefined,
      sentBackReason: sendBack?.reason,
      dueInMs: visitTarget(),
    })
    sendBack = undefined
    await waitFor(visit.id)
    if (closed()) return
    const done = findTask(current().tasks, visit.id)
    const form = done.result as VisitForm
    const attempt = attemptOf(
      s.attempts.length + 1,
      done.id,
      form,
      done.completedBy ?? null,
      done.completedAt ?? now().toISOString(),
    )
    s.attempts = [...s.attempts, attempt]
    const next = afterVisit(s, form, now())
    emit(
      'visit.recorded',
      done.completedBy ? { userId: done.completedBy, role: 'case_worker' } : SYSTEM_ACTOR,
      null,
      {
        attempt: attempt.no,
        outcome: attempt.outcome,
        reason: attempt.reason ?? null,
        next: next.next,
      },
    )
    if (next.next === 'revisit') {
      visitDueAt = Date.parse(next.at)
      s.nextVisitAt = next.at
      // Access impossible for security reasons stops the clock until the next visit.
      if (form.outcome === 'access_impossible') {
        const paused = appendClock({
          type: 'paused',
          at: now().toISOString(),
          reason: 'access_impossible',
        })
        if (paused)
          emit('sla.paused', SYSTEM_ACTOR, null, { clock: 'paused' }, { data: { clock: paused } })
      }
      emit('visit.rescheduled', SYSTEM_ACTOR, null, { at: next.at })
      return
    }
    if (next.next === 'review') {
      s.reviewReason = next.reason
      setStage('review')
      const review = await openTask('unreachable_review', {
        role: 'supervisor',
        areaCode: cercle(),
        dueInMs: current().context.policy.targets.approval,
      })
      await waitFor(review.id)
      if (closed()) return
      const decision = findTask(current().tasks, review.id).result as UnreachableReviewForm
      if (decision.decision === 'new_visit') {
        // The supervisor orders one more visit: the count of failed attempts starts again.
        s.attempts = []
        s.reviewReason = undefined
        return
      }
      close(next.reason === 'refused' ? 'refused' : 'unreachable', SYSTEM_ACTOR)
      return
    }

    // Scored by the formula in force now, whose version stays with the score.
    const formula = await k.rec.outside(() => loadActivePmtFormula())
    s.formula = formula
    const visited = form as Extract<VisitForm, { outcome: 'visited' }>
    const proposal = proposeEligibility(s, visited, formula, attempt.no, done.completedBy ?? null)
    s.proposal = proposal
    emit(
      'household.scored',
      SYSTEM_ACTOR,
      { score: proposal.previousScore, eligible: proposal.previousEligible },
      {
        score: proposal.score,
        formulaVersion: proposal.formulaVersion,
        eligible: proposal.eligible,
        change: proposal.change,
      },
    )
    await k.rec.outside(() =>
      recordHouseholdScore({
        caseId: s.caseId,
        visitNo: proposal.visitNo,
        householdId: s.householdId,
        score: proposal.score,
        formulaVersion: proposal.formulaVersion,
        eligible: proposal.eligible,
        scoredAt: now().toISOString(),
      }),
    )

    setStage('approval')
    const approval = await openTask('approval', {
      role: 'supervisor',
      areaCode: cercle(),
      approvalOf: proposal.proposedBy,
      dueInMs: current().context.policy.targets.approval,
    })
    await waitFor(approval.id)
    if (closed()) return
    const decided = findTask(current().tasks, approval.id)
    const approved = decided.result?.decision === 'approve'
    s.proposal = { ...proposal, approved }
    if (!approved) {
      // A rejected proposal sends the visit back to its enumerator with the reason.
      sendBack = {
        assigneeId: proposal.proposedBy,
        reason: typeof decided.result?.reason === 'string' ? decided.result.reason : 'rejected',
      }
      return
    }

    setStage('registry_update')
    const idempotencyKey = registryWriteKey(workflowId, proposal)
    try {
      const receipt = await k.rec.outside(() =>
        writeRegistryEligibility({
          idempotencyKey,
          caseId: s.caseId,
          householdId: s.householdId,
          score: proposal.score,
          formulaVersion: proposal.formulaVersion,
          eligible: proposal.eligible,
          members: proposal.members,
          decidedAt: decided.completedAt ?? now().toISOString(),
        }),
      )
      s.registryWrite = { idempotencyKey, reference: receipt.reference, at: now().toISOString() }
      emit('registry.updated', SYSTEM_ACTOR, null, {
        eligible: proposal.eligible,
        score: proposal.score,
        formulaVersion: proposal.formulaVersion,
      })
    } catch (error) {
      const cause = error instanceof ActivityFailure ? error.cause : undefined
      if (
        !(cause instanceof ApplicationFailure) ||
        cause.type !== ReverificationErrorCode.REGISTRY_REJECTED
      )
        throw error
      // Refused for good: a supervisor decides (close, or visit again to correct the data); the
      // case never loops on a refusal by itself.
      s.reviewReason = 'registry_rejected'
      setStage('review')
      emit('registry.rejected', SYSTEM_ACTOR, null, { idempotencyKey })
      const review = await openTask('registry_review', {
        role: 'supervisor',
        areaCode: cercle(),
        dueInMs: current().context.policy.targets.approval,
      })
      await waitFor(review.id)
      if (closed()) return
      const decision = findTask(current().tasks, review.id).result as RegistryReviewForm
      if (decision.decision === 'new_visit') {
        s.reviewReason = undefined
        return
      }
      close('registry_rejected', SYSTEM_ACTOR)
      return
    }

    setStage('notification')
    emit(
      'household.notified',
      SYSTEM_ACTOR,
      null,
      { eligible: proposal.eligible, change: proposal.change },
      { notify: [{ template: 'outcome', to: { complainant: true }, params: {} }] },
    )
    close('completed', SYSTEM_ACTOR)
  }

  return k.run(step, {
    watch: createWatcher(k),
    resume: (resume) => ({ resume }) satisfies ReverificationInput,
  })
}
