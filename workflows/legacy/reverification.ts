import {
  ActivityFailure,
  ApplicationFailure,
  allHandlersFinished,
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { ZodType } from 'zod'
import type { CaseActivities } from '../../activities'
import { createShell } from './case-shell'
import { approvalForm } from '../forms'
import { slaEventProblem, slaStatus, type SlaClockEvent, type SlaStatus } from '../kernel/sla'
import { findTask, isOpen, type HumanTask } from '../kernel/tasks'
import {
  closeCaseUpdate,
  ErrorCode,
  SYSTEM_ACTOR,
  withdrawUpdate,
  type Actor,
  type CaseSnapshot,
  type RoleCode,
} from '../messages'
import {
  registryReviewForm,
  ReverificationErrorCode,
  reverificationViewQuery,
  unreachableReviewForm,
  visitForm,
  type OpenReverificationInput,
  type ReverificationInput,
  type RegistryReviewForm,
  type ReverificationState,
  type UnreachableReviewForm,
  type VisitForm,
} from '../kinds/reverification/messages'
import {
  afterVisit,
  attemptOf,
  proposeEligibility,
  registryWriteKey,
} from '../kinds/reverification/state'
import { CaseAreaKey, CaseKindKey, CasePriorityKey, CaseStageKey } from '../search-attributes'

// The read model must land whatever the outage: unbounded retries, capped backoff, short attempts.
const {
  loadCaseContext,
  pickAssignee,
  projectCaseEvent,
  loadReverificationPolicy,
  loadActivePmtFormula,
  recordHouseholdScore,
  copyParentContact,
} = proxyActivities<CaseActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

// A registry that is down delays the case, never fails it: attempts are unbounded, the backoff is
// capped at a minute, and no schedule-to-close limit ends the waiting. Only a refusal for good
// (an unknown household, an invalid change) stops the retries; the workflow hands it to a person.
const { fetchHousehold, writeRegistryEligibility } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '1 minute',
    nonRetryableErrorTypes: [ReverificationErrorCode.REGISTRY_REJECTED],
  },
})

// Mail never holds the case up (see grievance.ts): the activity caps its own attempts.
const { deliverNotification } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '1 minute',
  heartbeatTimeout: '8 seconds',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 minutes',
    maximumAttempts: 8,
  },
})

const visitForms: Record<string, ZodType<Record<string, unknown>>> = {
  visit: visitForm as unknown as ZodType<Record<string, unknown>>,
  approval: approvalForm as unknown as ZodType<Record<string, unknown>>,
  unreachable_review: unreachableReviewForm,
  registry_review: registryReviewForm,
}

/**
 * A household re-verification: the household is read from the registry → a visit task for an
 * enumerator of its commune; absent or no access (security…) reschedules the visit, and after
 * the policy's number of failed attempts (or a refusal) a supervisor reviews and the case closes
 * as unreachable → the visit's data scored by the proxy-means-test formula in force (its version
 * kept with the score) → the proposed eligibility approved by a supervisor who did not visit
 * (four eyes; a rejection sends the visit back) → the registry updated once (idempotency key per
 * case and decision; a registry down only delays) → the household notified → closed. Histories
 * stay small (a handful of visits), so the case never continues as new.
 */
export async function legacyReverificationWorkflow(
  input: ReverificationInput,
): Promise<CaseSnapshot> {
  const { workflowId } = workflowInfo()
  let state: ReverificationState | undefined = 'resume' in input ? input.resume : undefined
  let version = 0

  const current = (): ReverificationState => {
    if (!state)
      throw ApplicationFailure.nonRetryable('the case is still opening', ErrorCode.INVALID_COMMAND)
    return state
  }
  const now = () => new Date()
  const calendar = () => current().context.policy.calendar
  const sla = (at = now()): SlaStatus =>
    slaStatus(calendar(), current().clock, at, current().context.policy.atRiskRatio)

  const shell = createShell<ReverificationState>({
    state: current,
    calendar,
    changed: () => {
      version += 1
    },
    snapshot: () => {
      const s = current()
      const status = sla()
      return {
        slaState: status.state,
        resolveDueAt: status.dueAt,
        escalationLevel: 0,
        householdId: s.householdId,
        parentCaseId: s.parentCaseId,
      }
    },
    project: (event) => projectCaseEvent(event),
    deliver: (key) => deliverNotification(key),
  })
  const { emit, setStage, assertOpen } = shell

  const appendClock = (event: SlaClockEvent): SlaClockEvent | undefined => {
    const s = current()
    if (slaEventProblem(s.clock, event)) return undefined
    s.clock = [...s.clock, event]
    return event
  }

  /** Opens a task for the given person, or for the one the workload picks in the area. */
  const openTask = async (
    kind: string,
    options: {
      role: RoleCode
      areaCode: string
      assigneeId?: string | null
      approvalOf?: string | null
      sentBackReason?: string
      dueInMs?: number
    },
  ): Promise<HumanTask> =>
    shell.openTask(kind, {
      role: options.role,
      areaCode: options.areaCode,
      assigneeId:
        options.assigneeId ??
        (await pickAssignee({
          role: options.role,
          areaCodes: [options.areaCode],
          clearance: false,
        })),
      targetMs: options.dueInMs,
      approval:
        options.approvalOf !== undefined
          ? { required: 1, proposerId: options.approvalOf, decisions: [] }
          : undefined,
      sentBackReason: options.sentBackReason,
    })

  /** Closes the case with its clock stopped. */
  const close = (reason: string, actor: Actor) => {
    const s = current()
    const before = { status: s.status, stage: s.stage }
    const clock = appendClock({ type: 'stopped', at: now().toISOString() })
    return shell.closeCase(reason, actor, { before, data: clock ? { clock } : undefined })
  }

  /** Closing or withdrawing a re-verification is a supervisor's decision. */
  const assertSupervisor = (actor: Actor, what: string) => {
    if (actor.role !== 'supervisor' && actor.role !== 'programme_manager') {
      throw ApplicationFailure.nonRetryable(
        `only a supervisor ${what} a re-verification`,
        ErrorCode.NOT_ALLOWED,
      )
    }
  }

  // ---- Messages, registered before the first await. ----

  setHandler(reverificationViewQuery, () => ({ ...current(), sla: sla() }))
  shell.registerTaskHandlers({ forms: visitForms })
  setHandler(
    closeCaseUpdate,
    async (c) => {
      await close(c.reason, c.actor)
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        assertSupervisor(c.actor, 'closes')
        if (!/^[a-z_]{3,40}$/.test(c.reason ?? '')) {
          throw ApplicationFailure.nonRetryable('a reason code', ErrorCode.INVALID_COMMAND)
        }
      },
    },
  )
  // The cases API's withdrawal: a supervisor stops the re-verification (the reason stays in the
  // encrypted history; the case closes as `withdrawn`).
  setHandler(
    withdrawUpdate,
    async (c) => {
      await close('withdrawn', c.actor)
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        assertSupervisor(c.actor, 'withdraws')
      },
    },
  )

  // ---- Opening: the household from the registry (waits while the registry is down). ----

  if (!state) {
    const opening = input as OpenReverificationInput
    const household = await fetchHousehold(opening.householdId)
    const areaCode = household?.areaCode ?? opening.areaCode ?? 'ML'
    const priority = opening.priority ?? 'normal'
    const [context, policy] = await Promise.all([
      loadCaseContext({ kind: 'reverification', priority, areaCode }),
      loadReverificationPolicy(),
    ])
    const openedAt = now().toISOString()
    const started: SlaClockEvent = {
      type: 'started',
      at: openedAt,
      targetMs: context.policy.targets.resolve,
    }
    state = {
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
      attempts: [],
    }
    upsertSearchAttributes([
      { key: CaseKindKey, value: 'reverification' },
      { key: CaseAreaKey, value: areaCode },
      { key: CasePriorityKey, value: priority },
      { key: CaseStageKey, value: 'opening' },
    ])
    await emit(
      'case.opened',
      opening.openedBy,
      null,
      {
        status: 'open',
        stage: 'opening',
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
      },
    )
    // The household is told the outcome where the parent case's complainant can be reached.
    if (opening.parentCaseId)
      await copyParentContact({ caseId: opening.caseId, parentCaseId: opening.parentCaseId })
    if (!household) {
      current().reviewReason = 'household_not_found'
      await close('household_not_found', SYSTEM_ACTOR)
    }
  }

  // ---- The lifecycle. ----

  const s = current()
  const commune = () => current().context.areaPath[0]!
  const cercle = () => current().context.areaPath[1] ?? commune()
  const waitFor = (taskId: string) =>
    condition(() => current().status === 'closed' || !isOpen(findTask(current().tasks, taskId)))
  const visitTarget = () => current().context.policy.targets.investigation
  const closed = () => current().status === 'closed'

  let sendBack: { assigneeId: string | null; reason: string } | undefined
  let visitDueAt: number | undefined

  while (!closed()) {
    // A visit, rescheduled until it happens, the attempts run out, or the household refuses.
    if (visitDueAt !== undefined) {
      const wait = visitDueAt - Date.now()
      const seen = version
      if (wait > 0) await condition(() => closed() || version !== seen, wait)
      if (closed()) break
      if (Date.now() < visitDueAt) continue
      const resumed = appendClock({ type: 'resumed', at: now().toISOString() })
      if (resumed)
        await emit(
          'sla.resumed',
          SYSTEM_ACTOR,
          null,
          { clock: 'resumed' },
          { data: { clock: resumed } },
        )
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
    if (closed()) break
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
    await emit(
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
          await emit(
            'sla.paused',
            SYSTEM_ACTOR,
            null,
            { clock: 'paused' },
            { data: { clock: paused } },
          )
      }
      await emit('visit.rescheduled', SYSTEM_ACTOR, null, { at: next.at })
      continue
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
      if (closed()) break
      const decision = findTask(current().tasks, review.id).result as UnreachableReviewForm
      if (decision.decision === 'new_visit') {
        // The supervisor orders one more visit: the count of failed attempts starts again.
        s.attempts = []
        s.reviewReason = undefined
        continue
      }
      await close(next.reason === 'refused' ? 'refused' : 'unreachable', SYSTEM_ACTOR)
      break
    }

    // Scored by the formula in force now, whose version stays with the score.
    const formula = await loadActivePmtFormula()
    s.formula = formula
    const visited = form as Extract<VisitForm, { outcome: 'visited' }>
    const proposal = proposeEligibility(s, visited, formula, attempt.no, done.completedBy ?? null)
    s.proposal = proposal
    await emit(
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
    await recordHouseholdScore({
      caseId: s.caseId,
      visitNo: proposal.visitNo,
      householdId: s.householdId,
      score: proposal.score,
      formulaVersion: proposal.formulaVersion,
      eligible: proposal.eligible,
      scoredAt: now().toISOString(),
    })

    setStage('approval')
    const approval = await openTask('approval', {
      role: 'supervisor',
      areaCode: cercle(),
      approvalOf: proposal.proposedBy,
      dueInMs: current().context.policy.targets.approval,
    })
    await waitFor(approval.id)
    if (closed()) break
    const decided = findTask(current().tasks, approval.id)
    const approved = decided.result?.decision === 'approve'
    s.proposal = { ...proposal, approved }
    if (!approved) {
      // A rejected proposal sends the visit back to its enumerator with the reason.
      sendBack = {
        assigneeId: proposal.proposedBy,
        reason: typeof decided.result?.reason === 'string' ? decided.result.reason : 'rejected',
      }
      continue
    }

    setStage('registry_update')
    const idempotencyKey = registryWriteKey(workflowId, proposal)
    try {
      const receipt = await writeRegistryEligibility({
        idempotencyKey,
        caseId: s.caseId,
        householdId: s.householdId,
        score: proposal.score,
        formulaVersion: proposal.formulaVersion,
        eligible: proposal.eligible,
        members: proposal.members,
        decidedAt: decided.completedAt ?? now().toISOString(),
      })
      s.registryWrite = { idempotencyKey, reference: receipt.reference, at: now().toISOString() }
      await emit('registry.updated', SYSTEM_ACTOR, null, {
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
      await emit('registry.rejected', SYSTEM_ACTOR, null, { idempotencyKey })
      const review = await openTask('registry_review', {
        role: 'supervisor',
        areaCode: cercle(),
        dueInMs: current().context.policy.targets.approval,
      })
      await waitFor(review.id)
      if (closed()) break
      const decision = findTask(current().tasks, review.id).result as RegistryReviewForm
      if (decision.decision === 'new_visit') {
        s.reviewReason = undefined
        continue
      }
      await close('registry_rejected', SYSTEM_ACTOR)
      break
    }

    setStage('notification')
    await emit(
      'household.notified',
      SYSTEM_ACTOR,
      null,
      { eligible: proposal.eligible, change: proposal.change },
      { notify: [{ template: 'outcome', to: { complainant: true }, params: {} }] },
    )
    await close('completed', SYSTEM_ACTOR)
  }

  await shell.settled()
  await condition(allHandlersFinished)
  await Promise.all(shell.deliveries)
  return current()
}
