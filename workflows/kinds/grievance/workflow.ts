import { ParentClosePolicy, patched, setHandler, startChild } from '@temporalio/workflow'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common'
import type { InvestigationForm, TriageForm } from '../../forms'
import { caseKinds } from '..'
import { createKernel } from '../../kernel/case'
import { local, stateHolder } from '../../kernel/reference'
import { registerCaseHandlers, registerTaskHandlers } from '../../kernel/handlers'
import { findTask } from '../../kernel/tasks'
import { createWatcher } from '../../kernel/watcher'
import { legacyGrievanceWorkflow } from '../../legacy/grievance'
import {
  caseOpenedUpdate,
  caseViewQuery,
  caseWorkflowId,
  grievanceViewQuery,
  KERNEL_PATCH,
  SYSTEM_ACTOR,
  type CaseSnapshot,
  type GrievanceInput,
  type GrievanceState,
  type OpenCaseInput,
} from '../../messages'
import { spawnedReverificationId, type OpenReverificationInput } from '../reverification/messages'
import { CaseKindKey, CasePriorityKey } from '../../search-attributes'
import { registerGrievanceHandlers } from './handlers'
import { openedState, reopenedState } from './open'

const { loadCaseContext } = local

/**
 * A grievance: uptake (acknowledgement with its reference) → triage → investigation by the
 * least-loaded case worker of the commune (designated focal points only when sensitive) →
 * supervisor approval when the resolution changes eligibility or payment or the case is
 * sensitive (never by the proposer; a rejection sends the investigation back with its reason) →
 * outcome communicated (an upheld exclusion spawns the household's re-verification) → appeal
 * window → closed. The SLA clock, reminders, escalation, notes, links, withdrawal and
 * continue-as-new are the kernel's. Cases opened before the kernel run their recorded course.
 */
export async function grievanceWorkflow(input: GrievanceInput): Promise<CaseSnapshot> {
  if (!patched(KERNEL_PATCH)) return legacyGrievanceWorkflow(input)
  const holder = stateHolder<GrievanceState>('resume' in input ? input.resume : undefined)
  const current = holder.current
  const k = createKernel<GrievanceState>({
    state: current,
    snapshot: () => ({ satisfaction: current().satisfaction ?? null }),
  })
  registerTaskHandlers(k, { forms: caseKinds.grievance.forms })
  registerCaseHandlers(k, { closeBy: ['supervisor', 'system'] })
  registerGrievanceHandlers(k)
  setHandler(grievanceViewQuery, () => ({ ...current(), sla: k.sla()! }))
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

  const at = k.now().toISOString()
  if ('reopen' in input) {
    const { state: reopened, started } = reopenedState(input.reopen, at)
    holder.set(reopened)
    k.opened()
    k.emit(
      'case.reopened',
      input.reopen.actor,
      { status: 'closed', stage: 'closed' },
      { status: 'open', stage: 'investigation', reason: input.reopen.reason },
      { data: { clock: started } },
    )
    await k.openTask('investigation', {
      role: 'case_worker',
      areaCode: reopened.context.areaPath[0]!,
      candidateAreas: reopened.sensitive
        ? reopened.context.areaPath
        : [reopened.context.areaPath[0]!],
      assigneeId: input.reopen.state.resolution?.proposedBy ?? undefined,
      sentBackReason: input.reopen.reason,
    })
  } else if (!holder.opened()) {
    const opening = input as OpenCaseInput
    const context = await loadCaseContext({
      kind: opening.kind,
      category: opening.category,
      priority: opening.priority,
      areaCode: opening.areaCode,
    })
    const { state: opened, started, notify } = openedState(opening, context, at)
    holder.set(opened)
    k.recordOpening(
      opening.openedBy,
      {
        channel: opening.channel ?? null,
        anonymous: opening.anonymous ?? false,
      },
      {
        data: { clock: started, policy: context.policy, areaPath: context.areaPath },
        contact: opening.contact,
        notify,
      },
    )
  } else {
    k.opened()
  }

  const s = current
  const commune = () => s().context.areaPath[0]!
  const workerAreas = () => (s().sensitive ? s().context.areaPath : [commune()])
  /** The task of `kind` the stage waits on, once it is no longer open; undefined if closed. */
  const outcomeOf = async (kind: string) => {
    const task = k.latest(kind)!
    await k.waitTask(task.id)
    const done = findTask(s().tasks, task.id)
    return k.closed() || done.status !== 'completed' ? undefined : done
  }

  /** An upheld exclusion grievance naming a household spawns its re-verification, once. */
  const spawnReverification = async () => {
    const st = s()
    const householdId = k.latest('investigation')?.result?.householdId
    const rvId = spawnedReverificationId(st.caseId)
    if (
      st.category !== 'exclusion_error' ||
      typeof householdId !== 'string' ||
      !['upheld', 'partly_upheld'].includes(st.resolution?.proposedResolution ?? '') ||
      (st.links ?? []).some((l) => l.toCaseId === rvId)
    )
      return
    await k.rec.outside(async () => {
      try {
        await startChild('reverificationWorkflow', {
          workflowId: caseWorkflowId(rvId),
          args: [
            {
              caseId: rvId,
              householdId,
              areaCode: commune(),
              trigger: 'grievance',
              parentCaseId: st.caseId,
              openedBy: SYSTEM_ACTOR,
            } satisfies OpenReverificationInput,
          ],
          // The re-verification runs its own course, whatever becomes of the grievance.
          parentClosePolicy: ParentClosePolicy.ABANDON,
          typedSearchAttributes: [{ key: CaseKindKey, value: 'reverification' }],
        })
      } catch (error) {
        if (!(error instanceof WorkflowExecutionAlreadyStartedError)) throw error
      }
    })
    st.links = [...(st.links ?? []), { toCaseId: rvId, kind: 'spawned' }]
    // The link row itself is written by the new case's opening (both rows must exist).
    k.emit('case.spawned', SYSTEM_ACTOR, null, { toCaseId: rvId, kind: 'reverification' })
  }

  const step = async () => {
    const st = s()
    switch (st.stage) {
      case 'uptake':
        k.setStage('triage')
        await k.openTask('triage', {
          role: 'case_worker',
          areaCode: commune(),
          candidateAreas: workerAreas(),
        })
        return
      case 'triage': {
        const done = await outcomeOf('triage')
        if (!done) return
        const form = done.result as TriageForm
        const before = {
          category: st.category ?? null,
          sensitive: st.sensitive,
          priority: st.priority,
        }
        st.category = form.category
        st.sensitive = form.sensitive || st.context.sensitiveCategories.includes(form.category)
        st.priority = form.priority
        k.rec.upsert([[CasePriorityKey, st.priority]])
        k.setStage('investigation')
        k.emit(
          'case.triaged',
          done.completedBy ? { userId: done.completedBy, role: 'case_worker' } : SYSTEM_ACTOR,
          before,
          { category: st.category, sensitive: st.sensitive, priority: st.priority },
        )
        await k.openTask('investigation', {
          role: 'case_worker',
          areaCode: commune(),
          candidateAreas: workerAreas(),
        })
        return
      }
      case 'investigation': {
        const done = await outcomeOf('investigation')
        if (!done) return
        const form = done.result as InvestigationForm
        st.resolution = {
          proposedResolution: form.proposedResolution,
          changesEligibilityOrPayment: form.changesEligibilityOrPayment,
          proposedBy: done.completedBy ?? null,
          approved: null,
        }
        if (!form.changesEligibilityOrPayment && !st.sensitive) {
          k.setStage('outcome')
          return
        }
        k.setStage('approval')
        // Sensitive cases are approved by a designated supervisor of the region, not the cercle.
        const area = st.context.areaPath[st.sensitive ? 2 : 1] ?? commune()
        await k.openTask('approval', {
          role: 'supervisor',
          areaCode: area,
          candidateAreas: [area],
          approval: { required: 1, proposerId: done.completedBy ?? null, decisions: [] },
        })
        return
      }
      case 'approval': {
        const done = await outcomeOf('approval')
        if (!done) return
        const approved = done.result?.decision === 'approve'
        st.resolution = { ...st.resolution!, approved }
        if (approved) {
          k.setStage('outcome')
          return
        }
        // Rejection sends the investigation back, with the reason, to the one who proposed it.
        k.setStage('investigation')
        await k.openTask('investigation', {
          role: 'case_worker',
          areaCode: commune(),
          candidateAreas: workerAreas(),
          assigneeId: st.resolution.proposedBy ?? undefined,
          sentBackReason: typeof done.result?.reason === 'string' ? done.result.reason : 'rejected',
        })
        return
      }
      case 'outcome': {
        await spawnReverification()
        const now = k.now()
        const stopped = k.appendClock({ type: 'stopped', at: now.toISOString() })
        st.appealWindowEndsAt = new Date(
          now.getTime() + st.context.policy.targets.appealWindow,
        ).toISOString()
        k.setStage('appeal_window')
        k.emit(
          'case.resolved',
          SYSTEM_ACTOR,
          null,
          {
            resolution: st.resolution?.proposedResolution ?? null,
            appealWindowEndsAt: st.appealWindowEndsAt,
          },
          {
            data: stopped ? { clock: stopped } : undefined,
            notify: [{ template: 'outcome', to: { complainant: true }, params: {} }],
          },
        )
        return
      }
      case 'appeal_window': {
        const ends = Date.parse(st.appealWindowEndsAt!)
        await k.rec.wait(() => k.closed(), ends - Date.now())
        if (!k.closed() && Date.now() >= ends) k.close('resolved', SYSTEM_ACTOR)
        return
      }
      case 'closed':
        return
    }
  }

  return k.run(step, {
    watch: createWatcher(k),
    resume: (resume) => ({ resume }) satisfies GrievanceInput,
  })
}
