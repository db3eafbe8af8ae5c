import {
  allHandlersFinished,
  ApplicationFailure,
  condition,
  continueAsNew,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import { z } from 'zod'
import type { CaseActivities } from '../../activities'
import type { ReferralRow } from '../../activities/referrals/activities'
import { createShell } from './case-shell'
import { cancelTask, findTask, isOpen, type HumanTask } from '../kernel/tasks'
import { ErrorCode, SYSTEM_ACTOR, type Actor, type CaseSnapshot } from '../messages'
import {
  acceptReferralUpdate,
  declineReferralUpdate,
  referralViewQuery,
  reportReferralUpdate,
  type OpenReferralInput,
  type ReferralInput,
  type ReferralState,
} from '../kinds/referral/messages'
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
} from '../kinds/referral/state'
import {
  CaseAreaKey,
  CaseKindKey,
  CasePriorityKey,
  CaseSlaStateKey,
  CaseStageKey,
} from '../search-attributes'

// Reference data and projections must land eventually, whatever the outage: unbounded retries
// with a capped backoff; a short attempt timeout so a crashed worker's attempt is retried soon.
const { loadReferralContext, projectReferralEvent, pickAssignee } = proxyActivities<CaseActivities>(
  {
    startToCloseTimeout: '10 seconds',
    retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
  },
)

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

/** Forms of the referral's human tasks. */
export const referralForms = {
  follow_up: z.object({
    outcome: z.enum(['needs_met', 'needs_partly_met', 'needs_not_met', 'household_unreachable']),
    note: z.string().trim().max(2000).optional(),
  }),
  supervision: z.object({
    /** `reroute`: every partner of the coverage may be tried again; `close`: left unserved. */
    action: z.enum(['reroute', 'close']),
    note: z.string().trim().max(2000).optional(),
  }),
}
const FREE_TEXT = { follow_up: ['note'], supervision: ['note'] }

const HISTORY_EVENTS_BEFORE_CONTINUE = 5_000

/**
 * A referral of a household to a service of the integrated protection package. Consent is
 * recorded at opening (the API refuses a sensitive case's referral without it unless the user
 * holds the separate override permission, and the override is audited here). The referral goes
 * to the first partner covering the service in the area (coverage order); the partner accepts or
 * declines with a reason; a decline, or a partner leg whose deadline lapses (no answer, no
 * delivery report), re-routes to the next partner; none left, a supervisor decides (new round or
 * close). Once the partner reports the service delivered or not, a case worker follows up with
 * the household, then the referral closes. Every leg's deadline comes from the policy snapshot.
 */
export async function legacyReferralWorkflow(input: ReferralInput): Promise<CaseSnapshot> {
  const { workflowId } = workflowInfo()
  let state: ReferralState | undefined = 'resume' in input ? input.resume : undefined
  let version = 0
  const current = (): ReferralState => {
    if (!state)
      throw ApplicationFailure.nonRetryable('the case is still opening', ErrorCode.INVALID_COMMAND)
    return state
  }
  const now = () => new Date()

  const shell = createShell<ReferralState, ReferralRow>({
    state: current,
    calendar: () => current().context.policy.calendar,
    changed: () => {
      version += 1
    },
    snapshot: () => ({
      slaState: legSlaState(current(), now()),
      resolveDueAt: current().dueAt,
    }),
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
    project: (event, row) => projectReferralEvent(event, row),
    deliver: (key) => deliverNotification(key),
  })
  const webhooks: Promise<unknown>[] = []

  /** Applies transitions in order, recording each; a routing also notifies the partner. */
  const apply = async (transitions: Transition[], actor: Actor) => {
    // Every transition is applied before the first await: the lifecycle loop, woken by the
    // change, sees only the final state (never a `routing` in between to act upon twice).
    let recorded: Promise<void> = Promise.resolve()
    for (const t of transitions) {
      const s = current()
      state = {
        ...t.state,
        seq: s.seq,
        tasks: s.tasks,
        nextTaskNo: s.nextTaskNo,
        handledTasks: s.handledTasks,
        notes: s.notes,
      }
      shell.setStage(state.stage)
      upsertSearchAttributes([{ key: CaseSlaStateKey, value: legSlaState(state, now()) }])
      recorded = shell.emit(
        t.type,
        t.type === 'referral.routed' ? SYSTEM_ACTOR : actor,
        null,
        t.after,
      )
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
    await recorded
  }

  /** Closes the referral: open tasks cancelled, no leg running. */
  const close = async (reason: string, actor: Actor) => {
    const s = current()
    s.leg = null
    s.dueAt = null
    s.atRiskAt = null
    await shell.closeCase(reason, actor)
  }

  // ---- Messages: registered before the first await. ----

  setHandler(referralViewQuery, () => current())
  shell.registerTaskHandlers({ forms: referralForms, freeText: FREE_TEXT })

  setHandler(
    acceptReferralUpdate,
    async (c) => {
      await apply([accept(current(), c.actor, now())], c.actor)
      return current()
    },
    { validator: (c) => void checkPartnerCommand(current(), c.actor, 'awaiting_partner') },
  )
  setHandler(
    declineReferralUpdate,
    async (c) => {
      const s = current()
      if (c.note)
        s.notes = [...s.notes, { by: c.actor.userId, at: now().toISOString(), text: c.note }]
      await apply(decline(current(), c.actor, c.reason, now()), c.actor)
      return current()
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
      const s = current()
      if (c.note)
        s.notes = [...s.notes, { by: c.actor.userId, at: now().toISOString(), text: c.note }]
      await apply([report(current(), c.actor, c.outcome, now())], c.actor)
      return current()
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

  if (!state) {
    const opening = input as OpenReferralInput
    const context = await loadReferralContext({
      serviceCode: opening.serviceCode,
      areaCode: opening.areaCode,
    })
    state = {
      caseId: opening.caseId,
      reference: opening.reference,
      kind: 'referral',
      status: 'open',
      stage: 'routing',
      areaCode: opening.areaCode,
      priority: opening.priority,
      sensitive: opening.sensitive,
      openedAt: now().toISOString(),
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
    }
    upsertSearchAttributes([
      { key: CaseKindKey, value: 'referral' },
      { key: CaseAreaKey, value: opening.areaCode },
      { key: CasePriorityKey, value: opening.priority },
      { key: CaseStageKey, value: 'routing' },
      { key: CaseSlaStateKey, value: 'on_track' },
    ])
    await shell.emit(
      'case.opened',
      opening.openedBy,
      null,
      {
        status: 'open',
        stage: 'routing',
        serviceCode: opening.serviceCode,
        sourceCaseId: opening.sourceCaseId,
        consent: {
          given: opening.consent.given,
          method: opening.consent.method,
          recordedBy: opening.consent.recordedBy,
          recordedAt: opening.consent.recordedAt,
        },
      },
      { data: { policy: context.policy, partners: context.partners } },
    )
    if (!opening.consent.given && opening.consent.overriddenBy) {
      // The override of consent is its own audited event, by the person who used the permission.
      await shell.emit(
        'referral.consent_overridden',
        { ...opening.openedBy, userId: opening.consent.overriddenBy },
        null,
        { sensitive: opening.sensitive, reasonGiven: !!opening.consent.overrideReason },
      )
    }
  }

  // ---- The lifecycle. ----

  const commune = () => current().context.areaPath[0]!
  const cercle = () => current().context.areaPath[1] ?? commune()
  const latest = (kind: string) => [...current().tasks].reverse().find((t) => t.kind === kind)
  const taskDone = (task: HumanTask) => () =>
    current().status === 'closed' || !isOpen(findTask(current().tasks, task.id))

  /** Waits for a change or the running leg's deadline; a lapsed leg re-routes or escalates. */
  const waitLeg = async () => {
    const s = current()
    const seen = version
    const stage = s.stage
    const changed = () => version !== seen || current().stage !== stage
    if (!s.dueAt) return condition(changed)
    const ok = await condition(changed, Math.max(1, Date.parse(s.dueAt) - Date.now()))
    if (!ok && current().stage === stage && current().status !== 'closed') {
      await apply(lapse(current(), now()), SYSTEM_ACTOR)
    }
  }

  const step = async () => {
    const s = current()
    switch (s.stage) {
      case 'routing':
        await apply([routeNext(s, now())], SYSTEM_ACTOR)
        return
      case 'awaiting_partner':
      case 'in_service':
        await waitLeg()
        return
      case 'follow_up': {
        let task = latest('follow_up')
        if (!task || s.handledTasks.includes(task.id)) {
          const assigneeId = await pickAssignee({
            role: 'case_worker',
            areaCodes: s.sensitive ? s.context.areaPath : [commune()],
            clearance: s.sensitive,
          })
          task = await shell.openTask('follow_up', {
            role: 'case_worker',
            areaCode: commune(),
            assigneeId,
            targetMs: s.context.policy.targets.followUp,
          })
        }
        const due = Date.parse(current().dueAt ?? task.dueAt ?? new Date().toISOString())
        const done = await condition(taskDone(task), Math.max(1, due - Date.now()))
        if (current().status === 'closed') return
        current().handledTasks.push(task.id)
        const after = findTask(current().tasks, task.id)
        if (done && after.status === 'completed') {
          await close('completed', { userId: after.completedBy ?? null, role: 'case_worker' })
          return
        }
        // The follow-up lapsed: its task is withdrawn and a supervisor takes the referral.
        const cancelled = cancelTask(after)
        current().tasks = current().tasks.map((t) => (t.id === cancelled.id ? cancelled : t))
        await shell.emit(
          'task.cancelled',
          SYSTEM_ACTOR,
          null,
          { taskId: cancelled.id },
          { tasks: [shell.taskProjection(cancelled)] },
        )
        await apply(lapse(current(), now()), SYSTEM_ACTOR)
        return
      }
      case 'supervision': {
        let task = latest('supervision')
        if (!task || s.handledTasks.includes(task.id)) {
          const assigneeId = await pickAssignee({
            role: 'supervisor',
            areaCodes: [cercle()],
            clearance: s.sensitive,
          })
          task = await shell.openTask('supervision', {
            role: 'supervisor',
            areaCode: cercle(),
            assigneeId,
          })
        }
        await condition(taskDone(task))
        if (current().status === 'closed') return
        current().handledTasks.push(task.id)
        const after = findTask(current().tasks, task.id)
        const by: Actor = { userId: after.completedBy ?? null, role: 'supervisor' }
        if (after.result?.action === 'close') await close('unserved', by)
        else await apply([reroute(current(), now())], by)
        return
      }
      case 'closed':
        return
    }
  }

  while (current().status !== 'closed') {
    const info = workflowInfo()
    if (info.continueAsNewSuggested || info.historyLength > HISTORY_EVENTS_BEFORE_CONTINUE) {
      await shell.settled()
      await condition(allHandlersFinished)
      await continueAsNew<typeof legacyReferralWorkflow>({ resume: current() })
    }
    await step()
  }
  await shell.settled()
  await condition(allHandlersFinished)
  await Promise.all([...webhooks, ...shell.deliveries])
  return current()
}
