import {
  ApplicationFailure,
  patched,
  proxyActivities,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow'
import type { CaseActivities } from '../../../activities'
import type { ReferralRow } from '../../../activities/referrals/activities'
import { createKernel } from '../../kernel/case'
import { caseKinds } from '..'
import { local, stateHolder } from '../../kernel/reference'
import { registerCaseHandlers, registerTaskHandlers } from '../../kernel/handlers'
import { cancelTask, findTask } from '../../kernel/tasks'
import { createWatcher } from '../../kernel/watcher'
import { legacyReferralWorkflow } from '../../legacy/referral'
import {
  caseOpenedUpdate,
  caseViewQuery,
  ErrorCode,
  KERNEL_PATCH,
  SYSTEM_ACTOR,
  type Actor,
  type CaseSnapshot,
} from '../../messages'
import {
  acceptReferralUpdate,
  declineReferralUpdate,
  referralViewQuery,
  reportReferralUpdate,
  type OpenReferralInput,
  type ReferralInput,
  type ReferralState,
} from './messages'
import {
  accept,
  checkDeclineReason,
  checkPartnerCommand,
  currentPartner,
  decline,
  lapse,
  legSlaState,
  partnerStatus,
  report,
  reroute,
  routeNext,
  type Transition,
} from './state'
import { CaseSlaStateKey } from '../../search-attributes'

const { loadReferralContext } = local

// A partner's server down must not block the referral, nor flood the partner: 10 attempts over
// about an hour and a half, then the delivery stays recorded as pending for a person to check.
const { deliverPartnerWebhook } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: {
    initialInterval: '1 second',
    backoffCoefficient: 2,
    maximumInterval: '10 minutes',
    maximumAttempts: 10,
  },
})

/**
 * A referral of a household to a service of the integrated protection package: consent recorded
 * at opening; routed to the first partner covering the service in the area; the partner accepts
 * or declines with a reason; a decline, or a leg whose deadline lapses, re-routes to the next
 * partner; none left, a supervisor decides (new round or close). Once the partner reports, a
 * case worker follows up with the household, then the referral closes. Every leg's deadline
 * comes from the policy snapshot; the whole referral has the kernel's clock and ladder.
 */
export async function referralWorkflow(input: ReferralInput): Promise<CaseSnapshot> {
  if (!patched(KERNEL_PATCH)) return legacyReferralWorkflow(input)
  const { workflowId } = workflowInfo()
  const holder = stateHolder<ReferralState>('resume' in input ? input.resume : undefined)
  const current = holder.current
  const now = () => new Date()
  const k = createKernel<ReferralState>({
    state: current,
    freeText: caseKinds.referral.freeText,
    snapshot: () => ({ slaState: legSlaState(current(), now()), resolveDueAt: current().dueAt }),
    row: (): ReferralRow => {
      const s = current()
      return {
        sourceCaseId: s.sourceCaseId,
        serviceCode: s.serviceCode,
        partnerCode: currentPartner(s),
        partnerStatus: partnerStatus(s),
        householdId: s.householdId,
        leg: s.leg,
        dueAt: s.dueAt,
        atRiskAt: s.atRiskAt,
        consent: s.consent,
        partnersTried: s.tried,
      }
    },
  })
  const webhooks: Promise<unknown>[] = []

  /** Applies transitions in order, recording each; a routing also notifies the partner. */
  const apply = (transitions: Transition[], actor: Actor) => {
    for (const t of transitions) {
      const s = current()
      // What the pure transitions do not own stays as the case has it now.
      holder.set({
        ...t.state,
        seq: s.seq,
        tasks: s.tasks,
        nextTaskNo: s.nextTaskNo,
        handledTasks: s.handledTasks,
        notes: s.notes,
        clock: s.clock,
        alerted: s.alerted,
        escalationLevel: s.escalationLevel,
        links: s.links,
      })
      k.setStage(current().stage)
      k.rec.upsert([[CaseSlaStateKey, legSlaState(current(), now())]])
      k.emit(t.type, t.type === 'referral.routed' ? SYSTEM_ACTOR : actor, null, t.after)
      if (t.type === 'referral.routed') {
        const routed = current()
        webhooks.push(
          deliverPartnerWebhook({
            key: `${workflowId}:${routed.seq}`,
            partnerCode: String(t.after.partnerCode),
            caseId: routed.caseId,
            type: 'referral.routed',
            occurredAt: now().toISOString(),
            data: {
              referralId: routed.caseId,
              reference: routed.reference ?? routed.caseId,
              serviceCode: routed.serviceCode,
              areaCode: routed.areaCode,
              respondBy: routed.dueAt,
            },
          }).catch(() => undefined),
        )
      }
    }
  }
  const partnerNote = (actor: Actor, text?: string) => {
    if (!text) return
    const s = current()
    s.notes = [
      ...s.notes,
      { no: s.notes.length + 1, by: actor.userId, role: 'partner', at: now().toISOString(), text },
    ]
  }

  /** Closes the referral: open tasks cancelled, no leg running. */
  const close = (reason: string, actor: Actor) => {
    const s = current()
    s.leg = null
    s.dueAt = null
    s.atRiskAt = null
    k.close(reason, actor)
  }

  // ---- Messages: registered before the first await. ----

  registerTaskHandlers(k, { forms: caseKinds.referral.forms })
  registerCaseHandlers(k, { closeBy: ['supervisor', 'system'] })
  setHandler(referralViewQuery, () => current())
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
  setHandler(
    acceptReferralUpdate,
    async (c) => {
      apply([accept(current(), c.actor, now())], c.actor)
      return { ...current(), projected: await k.rec.answer() }
    },
    { validator: (c) => void checkPartnerCommand(current(), c.actor, 'awaiting_partner') },
  )
  setHandler(
    declineReferralUpdate,
    async (c) => {
      partnerNote(c.actor, c.note)
      apply(decline(current(), c.actor, c.reason, now()), c.actor)
      return { ...current(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        checkPartnerCommand(current(), c.actor, 'awaiting_partner')
        checkDeclineReason(c.reason, c.note)
      },
    },
  )
  setHandler(
    reportReferralUpdate,
    async (c) => {
      partnerNote(c.actor, c.note)
      apply([report(current(), c.actor, c.outcome, now())], c.actor)
      return { ...current(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        checkPartnerCommand(current(), c.actor, 'in_service')
        if (c.outcome !== 'delivered' && c.outcome !== 'not_delivered') {
          throw ApplicationFailure.nonRetryable(
            'the outcome is delivered or not_delivered',
            ErrorCode.INVALID_COMMAND,
          )
        }
        if (c.note !== undefined && (typeof c.note !== 'string' || c.note.length > 2000)) {
          throw ApplicationFailure.nonRetryable(
            'a note is text of at most 2000 characters',
            ErrorCode.INVALID_COMMAND,
          )
        }
      },
    },
  )

  // ---- Opening. ----

  if (!holder.opened()) {
    const opening = input as OpenReferralInput
    const context = await loadReferralContext({
      serviceCode: opening.serviceCode,
      areaCode: opening.areaCode,
      priority: opening.priority,
    })
    const openedAt = now().toISOString()
    const resolve = context.policy.targets.resolve
    holder.set({
      caseId: opening.caseId,
      reference: opening.reference,
      kind: 'referral',
      status: 'open',
      stage: 'routing',
      areaCode: opening.areaCode,
      priority: opening.priority,
      sensitive: opening.sensitive,
      openedAt,
      seq: 0,
      context,
      serviceCode: opening.serviceCode,
      sourceCaseId: opening.sourceCaseId,
      householdId: opening.householdId,
      consent: opening.consent,
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
      ...(resolve
        ? { clock: [{ type: 'started', at: openedAt, targetMs: resolve }], escalationLevel: 0 }
        : {}),
      alerted: [],
    })
    k.recordOpening(
      opening.openedBy,
      {
        serviceCode: opening.serviceCode,
        sourceCaseId: opening.sourceCaseId,
        consent: {
          given: opening.consent.given,
          method: opening.consent.method,
          recordedBy: opening.consent.recordedBy,
          recordedAt: opening.consent.recordedAt,
        },
      },
      {
        data: {
          policy: context.policy,
          partners: context.partners,
          ...(current().clock ? { clock: current().clock![0] } : {}),
        },
      },
    )
    if (!opening.consent.given && opening.consent.overriddenBy) {
      // The override of consent is its own audited event, by the person who used the permission.
      k.emit(
        'referral.consent_overridden',
        { ...opening.openedBy, userId: opening.consent.overriddenBy },
        null,
        { sensitive: opening.sensitive, reasonGiven: !!opening.consent.overrideReason },
      )
    }
  } else k.opened()

  // ---- The lifecycle. ----

  const commune = () => current().context.areaPath[0]!
  const cercle = () => current().context.areaPath[1] ?? commune()

  /** Waits for a change or the running leg's deadline; a lapsed leg re-routes or escalates. */
  const waitLeg = async () => {
    const s = current()
    const seen = k.version()
    const stage = s.stage
    const changed = () => k.version() !== seen || current().stage !== stage
    if (!s.dueAt) {
      await k.rec.wait(changed)
      return
    }
    const ok = await k.rec.wait(changed, Date.parse(s.dueAt) - Date.now())
    if (!ok && current().stage === stage && !k.closed())
      apply(lapse(current(), now()), SYSTEM_ACTOR)
  }
  /** The latest task of `kind` not yet handled, or a new one. */
  const taskOf = (kind: string, open: () => ReturnType<typeof k.openTask>) => {
    const task = k.latest(kind)
    return task && !current().handledTasks.includes(task.id) ? Promise.resolve(task) : open()
  }

  const step = async () => {
    const s = current()
    switch (s.stage) {
      case 'routing':
        apply([routeNext(s, now())], SYSTEM_ACTOR)
        return
      case 'awaiting_partner':
      case 'in_service':
        await waitLeg()
        return
      case 'follow_up': {
        const task = await taskOf('follow_up', () =>
          k.openTask('follow_up', {
            role: 'case_worker',
            areaCode: commune(),
            candidateAreas: s.sensitive ? s.context.areaPath : [commune()],
            targetMs: s.context.policy.targets.followUp,
          }),
        )
        const due = Date.parse(current().dueAt ?? task.dueAt ?? now().toISOString())
        const done = await k.waitTask(task.id, due - Date.now())
        if (k.closed()) return
        current().handledTasks.push(task.id)
        const after = findTask(current().tasks, task.id)
        if (done && after.status === 'completed') {
          close('completed', { userId: after.completedBy ?? null, role: 'case_worker' })
          return
        }
        // The follow-up lapsed: its task is withdrawn and a supervisor takes the referral.
        const cancelled = cancelTask(after)
        k.replaceTask(cancelled)
        k.emit(
          'task.cancelled',
          SYSTEM_ACTOR,
          null,
          { taskId: cancelled.id },
          { tasks: [k.taskProjection(cancelled)] },
        )
        apply(lapse(current(), now()), SYSTEM_ACTOR)
        return
      }
      case 'supervision': {
        const task = await taskOf('supervision', () =>
          k.openTask('supervision', { role: 'supervisor', areaCode: cercle() }),
        )
        await k.waitTask(task.id)
        if (k.closed()) return
        current().handledTasks.push(task.id)
        const after = findTask(current().tasks, task.id)
        const by: Actor = { userId: after.completedBy ?? null, role: 'supervisor' }
        if (after.result?.action === 'close') close('unserved', by)
        else apply([reroute(current(), now())], by)
        return
      }
      case 'closed':
        return
    }
  }

  const final = await k.run(step, {
    // The legs and the follow-up lapse by their own rules: the watcher leaves their tasks alone.
    watch: createWatcher(k, { skipTaskKinds: ['follow_up'] }),
    resume: (resume) => ({ resume }) satisfies ReferralInput,
  })
  await Promise.all(webhooks)
  return final
}
