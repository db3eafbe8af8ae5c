import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  ParentClosePolicy,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
} from '@temporalio/workflow'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common'
import type { ZodType } from 'zod'
import type { CaseActivities } from '../../activities'
import {
  appealReviewForm,
  appealViewQuery,
  implementationForm,
  type AppealInput,
  type AppealState,
  type OpenAppealInput,
} from '../kinds/appeal/messages'
import {
  afterCommittee,
  afterReview,
  checkIndependent,
  implementsByReverification,
} from '../kinds/appeal/state'
import { createShell } from './case-shell'
import { approvalForm } from '../forms'
import { findTask, isOpen, type HumanTask } from '../kernel/tasks'
import { caseWorkflowId, ErrorCode, SYSTEM_ACTOR, type Actor, type CaseSnapshot } from '../messages'
import type { OpenReverificationInput } from '../kinds/reverification/messages'
import {
  CaseAreaKey,
  CaseKindKey,
  CasePriorityKey,
  CaseSlaStateKey,
  CaseStageKey,
} from '../search-attributes'

// Reference data and projections must land eventually: unbounded retries, capped backoff.
const { loadAppealContext, projectAppealEvent, pickAssigneeExcept } =
  proxyActivities<CaseActivities>({
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  })

// An SMTP outage must neither block the case nor spam anyone (see grievance.ts).
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

const forms: Record<string, ZodType<Record<string, unknown>>> = {
  appeal_review: appealReviewForm,
  approval: approvalForm,
  implementation: implementationForm,
}
/** Reasons and notes are free text: in the history and the live state, never in PostgreSQL. */
const FREE_TEXT = { appeal_review: ['reasons'], approval: ['reason'], implementation: ['note'] }

/**
 * An appeal against a grievance outcome or an eligibility decision, filed within the window
 * (the API refuses it after, with APPEAL_WINDOW_CLOSED). A reviewer independent of the contested
 * decision (nobody who decided it, from its audit log: REVIEWER_NOT_INDEPENDENT otherwise)
 * decides upheld / overturned / partly with reasons; in committee mode, N members approve that
 * review (four eyes: the reviewer is not one of them; a rejection sends the review back). The
 * decision is always a person's, never a timer's. An overturned or partly overturned eligibility
 * decision starts a re-verification of the household; a grievance outcome gets an implementation
 * task. The household is notified of the decision.
 */
export async function legacyAppealWorkflow(input: AppealInput): Promise<CaseSnapshot> {
  let state: AppealState | undefined = 'resume' in input ? input.resume : undefined
  const current = (): AppealState => {
    if (!state)
      throw ApplicationFailure.nonRetryable('the case is still opening', ErrorCode.INVALID_COMMAND)
    return state
  }
  const now = () => new Date()
  const shell = createShell<AppealState, { contestedCaseId: string }>({
    state: current,
    calendar: () => current().context.policy.calendar,
    // The lifecycle waits on task states, not on a change counter.
    changed: () => undefined,
    row: () => ({ contestedCaseId: current().contestedCaseId }),
    project: (event, row) => projectAppealEvent(event, row),
    deliver: (key) => deliverNotification(key),
  })

  setHandler(appealViewQuery, () => current())
  shell.registerTaskHandlers({
    forms,
    freeText: FREE_TEXT,
    check: (task, actor) => checkIndependent(current(), task, actor),
  })

  const close = async (reason: string, actor: Actor) => {
    await shell.closeCase(reason, actor)
  }

  if (!state) {
    const opening = input as OpenAppealInput
    const context = await loadAppealContext({
      contestedCaseId: opening.contestedCaseId,
      areaCode: opening.areaCode,
    })
    state = {
      caseId: opening.caseId,
      reference: opening.reference,
      kind: 'appeal',
      status: 'open',
      stage: 'review',
      areaCode: opening.areaCode,
      priority: opening.priority,
      sensitive: opening.sensitive,
      openedAt: now().toISOString(),
      seq: 0,
      context,
      contestedCaseId: opening.contestedCaseId,
      mode: opening.mode,
      committeeRequired: opening.mode === 'committee' ? (opening.committeeRequired ?? 2) : 1,
      grounds: opening.grounds,
      tasks: [],
      nextTaskNo: 1,
      handledTasks: [],
    }
    upsertSearchAttributes([
      { key: CaseKindKey, value: 'appeal' },
      { key: CaseAreaKey, value: opening.areaCode },
      { key: CasePriorityKey, value: opening.priority },
      { key: CaseStageKey, value: 'review' },
      { key: CaseSlaStateKey, value: 'on_track' },
    ])
    await shell.emit(
      'case.opened',
      opening.openedBy,
      null,
      {
        status: 'open',
        stage: 'review',
        contestedCaseId: opening.contestedCaseId,
        contestedKind: context.contestedKind,
        mode: opening.mode,
        committeeRequired: state.committeeRequired,
      },
      {
        data: { policy: context.policy, deciders: context.deciders },
        links: [{ toCaseId: opening.contestedCaseId, kind: 'appeal_of' }],
      },
    )
  }

  const s0 = current()
  const commune = s0.context.areaPath[0]!
  // Sensitive appeals are reviewed at the region, by designated supervisors.
  const reviewArea = s0.context.areaPath[s0.sensitive ? 2 : 1] ?? commune
  const latest = (kind: string) => [...current().tasks].reverse().find((t) => t.kind === kind)
  const wait = (task: HumanTask) =>
    condition(() => current().status === 'closed' || !isOpen(findTask(current().tasks, task.id)))
  /** The latest task of `kind` not yet acted upon, or a new one. */
  const taskOf = async (kind: string, open: () => Promise<HumanTask>) => {
    const task = latest(kind)
    return task && !current().handledTasks.includes(task.id) ? task : open()
  }

  const notifyDecision = async () => {
    const d = current().decision!
    await shell.emit(
      'appeal.decided',
      { userId: d.decidedBy, role: 'supervisor' },
      null,
      { outcome: d.outcome, decidedBy: d.decidedBy, approvedBy: d.approvedBy },
      { notify: [{ template: 'appeal_decision', to: { complainant: true }, params: {} }] },
    )
  }

  const step = async () => {
    const s = current()
    switch (s.stage) {
      case 'review': {
        const previous = latest('appeal_review')
        const task = await taskOf('appeal_review', async () =>
          shell.openTask('appeal_review', {
            role: 'supervisor',
            areaCode: reviewArea,
            // A rejected review goes back to its reviewer; a first one to someone independent.
            assigneeId:
              previous?.completedBy ??
              (await pickAssigneeExcept({
                role: 'supervisor',
                areaCodes: s.sensitive ? s.context.areaPath.slice(1) : [reviewArea],
                clearance: s.sensitive,
                except: s.context.deciders,
              })),
            targetMs: s.context.policy.targets.review,
          }),
        )
        await wait(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        current().handledTasks.push(task.id)
        state = afterReview(current(), done)
        shell.setStage(state.stage)
        if (state.decision) await notifyDecision()
        return
      }
      case 'committee': {
        const task = await taskOf('approval', () =>
          shell.openTask('approval', {
            role: 'supervisor',
            areaCode: reviewArea,
            assigneeId: null,
            targetMs: s.context.policy.targets.review,
            approval: {
              required: s.committeeRequired,
              proposerId: s.proposal!.decidedBy,
              decisions: [],
            },
          }),
        )
        await wait(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        current().handledTasks.push(task.id)
        state = afterCommittee(current(), done)
        shell.setStage(state.stage)
        if (state.decision) await notifyDecision()
        else await shell.emit('appeal.review_sent_back', SYSTEM_ACTOR, null, { taskId: done.id })
        return
      }
      case 'implementation': {
        if (implementsByReverification(s)) {
          // The changed eligibility decision is re-taken on a fresh visit and score.
          const rvId = `RV-${s.caseId}`
          const reverification: OpenReverificationInput = {
            caseId: rvId,
            householdId: s.context.householdId!,
            trigger: 'appeal',
            parentCaseId: s.caseId,
            priority: s.priority,
            openedBy: SYSTEM_ACTOR,
          }
          try {
            await startChild('reverificationWorkflow', {
              workflowId: caseWorkflowId(rvId),
              args: [reverification],
              // The re-verification runs its own course, whatever becomes of the appeal.
              parentClosePolicy: ParentClosePolicy.ABANDON,
              typedSearchAttributes: [{ key: CaseKindKey, value: 'reverification' }],
            })
          } catch (error) {
            if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error
          }
          s.implementationCaseId = rvId
          await shell.emit(
            'appeal.implementation_started',
            SYSTEM_ACTOR,
            null,
            // The `spawned` link row is written by the re-verification's own opening.
            { reverificationCaseId: rvId },
          )
          await close('implemented', SYSTEM_ACTOR)
          return
        }
        const task = await taskOf('implementation', () =>
          shell.openTask('implementation', {
            role: 'case_worker',
            areaCode: commune,
            assigneeId: null,
            targetMs: s.context.policy.targets.implementation,
          }),
        )
        await wait(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        current().handledTasks.push(task.id)
        await close('implemented', { userId: done.completedBy ?? null, role: 'case_worker' })
        return
      }
      case 'closed':
        if (current().status !== 'closed') {
          await close(current().decision?.outcome ?? 'closed', SYSTEM_ACTOR)
        }
        return
    }
  }

  while (current().status !== 'closed') await step()
  await shell.settled()
  await condition(allHandlersFinished)
  await Promise.all(shell.deliveries)
  return current()
}
