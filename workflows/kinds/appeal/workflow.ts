import { ParentClosePolicy, patched, setHandler, startChild } from '@temporalio/workflow'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common'
import {
  appealViewQuery,
  type AppealInput,
  type AppealState,
  type OpenAppealInput,
} from './messages'
import { afterCommittee, afterReview, checkIndependent, implementsByReverification } from './state'
import { createKernel } from '../../kernel/case'
import { caseKinds } from '..'
import { local, stateHolder } from '../../kernel/reference'
import { registerCaseHandlers, registerTaskHandlers } from '../../kernel/handlers'
import type { SlaClockEvent } from '../../kernel/sla'
import { findTask, type HumanTask } from '../../kernel/tasks'
import { createWatcher } from '../../kernel/watcher'
import { legacyAppealWorkflow } from '../../legacy/appeal'
import {
  caseOpenedUpdate,
  caseViewQuery,
  caseWorkflowId,
  KERNEL_PATCH,
  SYSTEM_ACTOR,
  type CaseSnapshot,
} from '../../messages'
import type { OpenReverificationInput } from '../reverification/messages'
import { CaseKindKey } from '../../search-attributes'

const { loadAppealContext } = local

/**
 * An appeal against a grievance outcome or an eligibility decision, filed within the window. A
 * reviewer independent of the contested decision decides upheld / overturned / partly with
 * reasons; in committee mode N members approve that review (four eyes; a rejection sends it
 * back). An overturned eligibility decision starts a re-verification of the household; a
 * grievance outcome gets an implementation task. The household is notified of the decision.
 */
export async function appealWorkflow(input: AppealInput): Promise<CaseSnapshot> {
  if (!patched(KERNEL_PATCH)) return legacyAppealWorkflow(input)
  const holder = stateHolder<AppealState>('resume' in input ? input.resume : undefined)
  const current = holder.current
  const k = createKernel<AppealState>({ state: current, freeText: caseKinds.appeal.freeText })
  registerTaskHandlers(k, {
    forms: caseKinds.appeal.forms,
    check: (task, actor) => checkIndependent(current(), task, actor),
  })
  registerCaseHandlers(k, { closeBy: ['supervisor', 'system'] })
  setHandler(appealViewQuery, () => current())
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

  if (!holder.opened()) {
    const opening = input as OpenAppealInput
    const context = await loadAppealContext({
      contestedCaseId: opening.contestedCaseId,
      areaCode: opening.areaCode,
      priority: opening.priority,
    })
    const openedAt = k.now().toISOString()
    const resolve = context.policy.targets.resolve
    const started: SlaClockEvent | undefined = resolve
      ? { type: 'started', at: openedAt, targetMs: resolve }
      : undefined
    holder.set({
      caseId: opening.caseId,
      reference: opening.reference,
      kind: 'appeal',
      status: 'open',
      stage: 'review',
      areaCode: opening.areaCode,
      priority: opening.priority,
      sensitive: opening.sensitive,
      openedAt,
      seq: 0,
      context,
      contestedCaseId: opening.contestedCaseId,
      mode: opening.mode,
      committeeRequired: opening.mode === 'committee' ? (opening.committeeRequired ?? 2) : 1,
      grounds: opening.grounds,
      tasks: [],
      nextTaskNo: 1,
      handledTasks: [],
      ...(started ? { clock: [started], escalationLevel: 0, alerted: [] } : {}),
    })
    k.recordOpening(
      opening.openedBy,
      {
        contestedCaseId: opening.contestedCaseId,
        contestedKind: context.contestedKind,
        mode: opening.mode,
        committeeRequired: current().committeeRequired,
      },
      {
        data: { policy: context.policy, deciders: context.deciders, clock: started },
        links: [{ toCaseId: opening.contestedCaseId, kind: 'appeal_of' }],
        // The household is told the decision where the contested case's complainant is reached.
        copyContactFrom: opening.contestedCaseId,
      },
    )
  } else k.opened()

  const s0 = current()
  const commune = s0.context.areaPath[0]!
  // Sensitive appeals are reviewed at the region, by designated supervisors.
  const reviewArea = s0.context.areaPath[s0.sensitive ? 2 : 1] ?? commune
  /** The latest task of `kind` not yet acted upon, or a new one. */
  const taskOf = async (kind: string, open: () => Promise<HumanTask>) => {
    const task = k.latest(kind)
    return task && !current().handledTasks.includes(task.id) ? task : open()
  }
  const finished = async (task: HumanTask) => {
    await k.waitTask(task.id)
    const done = findTask(current().tasks, task.id)
    if (k.closed() || done.status !== 'completed') return undefined
    current().handledTasks.push(task.id)
    return done
  }
  const notifyDecision = () => {
    const d = current().decision!
    k.emit(
      'appeal.decided',
      { userId: d.decidedBy, role: 'supervisor' },
      null,
      { outcome: d.outcome, decidedBy: d.decidedBy, approvedBy: d.approvedBy },
      { notify: [{ template: 'appeal_decision', to: { complainant: true }, params: {} }] },
    )
  }
  /** The changed eligibility decision is re-taken on a fresh visit and score. */
  const startReverification = async (s: AppealState) => {
    const rvId = `RV-${s.caseId}`
    const reverification: OpenReverificationInput = {
      caseId: rvId,
      householdId: s.context.householdId!,
      trigger: 'appeal',
      parentCaseId: s.caseId,
      priority: s.priority,
      openedBy: SYSTEM_ACTOR,
    }
    await k.rec.outside(async () => {
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
    })
    s.implementationCaseId = rvId
    // The `spawned` link row is written by the re-verification's own opening.
    k.emit('appeal.implementation_started', SYSTEM_ACTOR, null, { reverificationCaseId: rvId })
    k.close('implemented', SYSTEM_ACTOR)
  }

  const step = async () => {
    const s = current()
    switch (s.stage) {
      case 'review': {
        const previous = k.latest('appeal_review')
        const task = await taskOf('appeal_review', () =>
          k.openTask('appeal_review', {
            role: 'supervisor',
            areaCode: reviewArea,
            // A rejected review goes back to its reviewer; a first one to someone independent.
            ...(previous?.completedBy
              ? { assigneeId: previous.completedBy }
              : {
                  candidateAreas: s.sensitive ? s.context.areaPath.slice(1) : [reviewArea],
                  except: s.context.deciders,
                }),
            targetMs: s.context.policy.targets.review,
          }),
        )
        const done = await finished(task)
        if (!done) return
        holder.set(afterReview(current(), done))
        k.setStage(current().stage)
        if (current().decision) notifyDecision()
        return
      }
      case 'committee': {
        const task = await taskOf('approval', () =>
          k.openTask('approval', {
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
        const done = await finished(task)
        if (!done) return
        holder.set(afterCommittee(current(), done))
        k.setStage(current().stage)
        if (current().decision) notifyDecision()
        else k.emit('appeal.review_sent_back', SYSTEM_ACTOR, null, { taskId: done.id })
        return
      }
      case 'implementation': {
        if (implementsByReverification(s)) return startReverification(s)
        const task = await taskOf('implementation', () =>
          k.openTask('implementation', {
            role: 'case_worker',
            areaCode: commune,
            assigneeId: null,
            targetMs: s.context.policy.targets.implementation,
          }),
        )
        const done = await finished(task)
        if (!done) return
        k.close('implemented', { userId: done.completedBy ?? null, role: 'case_worker' })
        return
      }
      case 'closed':
        if (!k.closed()) k.close(current().decision?.outcome ?? 'closed', SYSTEM_ACTOR)
        return
    }
  }

  return k.run(step, {
    watch: createWatcher(k),
    resume: (resume) => ({ resume }) satisfies AppealInput,
  })
}
