import {
  ApplicationFailure,
  allHandlersFinished,
  condition,
  continueAsNew,
  ParentClosePolicy,
  patched,
  proxyActivities,
  setHandler,
  startChild,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import { WorkflowExecutionAlreadyStartedError } from '@temporalio/common'
import type { ZodType } from 'zod'
import type { CaseActivities } from '../../activities'
import { projectableResult, taskForms, type InvestigationForm, type TriageForm } from '../forms'
import { addWorkingTime } from '../kernel/calendar'
import { slaEventProblem, slaStatus, type SlaClockEvent, type SlaStatus } from '../kernel/sla'
import {
  cancelTask,
  claimTask,
  completeTask,
  findTask,
  isOpen,
  parseForm,
  reassignTask,
  unclaimTask,
  type HumanTask,
} from '../kernel/tasks'
import {
  caseSnapshotQuery,
  caseWorkflowId,
  claimTaskUpdate,
  closeCaseUpdate,
  completeTaskUpdate,
  ErrorCode,
  extendSlaUpdate,
  grievanceViewQuery,
  markDuplicateUpdate,
  pauseSlaUpdate,
  reassignTaskUpdate,
  recordSatisfactionUpdate,
  addNoteUpdate,
  linkCaseUpdate,
  resumeSlaUpdate,
  SYSTEM_ACTOR,
  unclaimTaskUpdate,
  withdrawUpdate,
  type Actor,
  type CaseEvent,
  type CaseSnapshot,
  type GrievanceInput,
  type GrievanceState,
  type NotificationIntent,
  type OpenCaseInput,
  type RoleCode,
  type TaskProjection,
} from '../messages'
import {
  spawnedReverificationId,
  type OpenReverificationInput,
} from '../kinds/reverification/messages'
import {
  CaseAreaKey,
  CaseKindKey,
  CasePriorityKey,
  CaseSlaStateKey,
  CaseStageKey,
} from '../search-attributes'

// Reference data and projections must land eventually, whatever the outage: PostgreSQL down for an
// hour delays the read model, never loses an event. Retries are unbounded with a capped backoff.
// A short attempt timeout: an attempt lost with a crashed worker is retried within seconds.
const { loadCaseContext, pickAssignee, projectCaseEvent } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

// An SMTP outage must neither block the case nor spam anyone: the activity records a final
// failure itself after its own attempt cap; Temporal retries the attempts in between.
const { deliverNotification } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '1 minute',
  // The attempt heartbeats: a worker killed while sending is noticed within seconds.
  heartbeatTimeout: '8 seconds',
  retry: {
    initialInterval: '30 seconds',
    backoffCoefficient: 2,
    maximumInterval: '30 minutes',
    maximumAttempts: 8,
  },
})

/** Escalation ladder: level 1 = cercle, 2 = region, 3 = national. */
const MAX_ESCALATION = 3
/** Histories stay small: continue as new well before Temporal's limits. */
const HISTORY_EVENTS_BEFORE_CONTINUE = 5_000

const iso = (ms: number) => new Date(ms).toISOString()

function requiresApproval(form: InvestigationForm, sensitive: boolean): boolean {
  return form.changesEligibilityOrPayment || sensitive
}

/**
 * A grievance: uptake (acknowledgement with its reference) → triage → investigation by the
 * least-loaded case worker of the commune (designated focal points only when sensitive) →
 * supervisor approval when the resolution changes eligibility or payment or the case is
 * sensitive (never by the proposer; a rejection sends the investigation back) → outcome
 * communicated → appeal window → closed. The resolve SLA runs in working time on the business
 * calendar: a reminder at the at-risk threshold, then each breach escalates one level up the
 * geography. Every transition is projected, in order, into `cases`, `tasks` and `case_events`.
 */
export async function legacyGrievanceWorkflow(input: GrievanceInput): Promise<CaseSnapshot> {
  const { workflowId } = workflowInfo()
  let state: GrievanceState | undefined = 'resume' in input ? input.resume : undefined
  /** Bumped on every change, so that waiting loops re-evaluate. */
  let version = 0
  let projecting: Promise<void> = Promise.resolve()
  const deliveries: Promise<unknown>[] = []

  const current = (): GrievanceState => {
    if (!state)
      throw ApplicationFailure.nonRetryable('the case is still opening', ErrorCode.INVALID_COMMAND)
    return state
  }
  const now = () => new Date()
  const calendar = () => current().context.policy.calendar
  const sla = (at = now()): SlaStatus =>
    slaStatus(calendar(), current().clock, at, current().context.policy.atRiskRatio)

  const taskProjection = (t: HumanTask): TaskProjection => ({
    id: t.id,
    kind: t.kind,
    status: t.status,
    candidateRole: t.candidateRole,
    areaCode: t.areaCode,
    assigneeId: t.assigneeId,
    dueAt: t.dueAt,
    createdAt: t.createdAt,
    completedAt: t.completedAt ?? null,
    completedBy: t.completedBy ?? null,
    result: projectableResult(t.kind, t.result),
    escalationLevel: t.escalationLevel ?? null,
  })

  /** Records one event: the state's seq moves on, the projection is queued in order. */
  const emit = (
    type: string,
    actor: Actor,
    before: Record<string, unknown> | null,
    after: Record<string, unknown>,
    extra: Pick<CaseEvent, 'data' | 'tasks' | 'notify' | 'contact' | 'links'> = {},
  ): Promise<void> => {
    const s = current()
    s.seq += 1
    version += 1
    const status = sla()
    const event: CaseEvent = {
      workflowId,
      caseId: s.caseId,
      seq: s.seq,
      type,
      actor,
      occurredAt: now().toISOString(),
      before,
      after,
      ...extra,
      snapshot: {
        caseId: s.caseId,
        reference: s.reference,
        kind: s.kind,
        status: s.status,
        stage: s.stage,
        areaCode: s.areaCode,
        category: s.category,
        channel: s.channel,
        priority: s.priority,
        sensitive: s.sensitive,
        openedAt: s.openedAt,
        closedAt: s.closedAt,
        closeReason: s.closeReason,
        seq: s.seq,
        slaState: status.state,
        resolveDueAt: status.dueAt,
        escalationLevel: s.escalationLevel,
        satisfaction: s.satisfaction ?? null,
      },
    }
    projecting = projecting.then(async () => {
      const { notificationKeys } = await projectCaseEvent(event)
      // Sending never holds the case up: deliveries run on their own, awaited only at the end.
      for (const key of notificationKeys) {
        deliveries.push(deliverNotification(key).catch(() => undefined))
      }
    })
    return projecting
  }

  const setStage = (stage: GrievanceState['stage']) => {
    current().stage = stage
    upsertSearchAttributes([{ key: CaseStageKey, value: stage }])
  }

  /** Opens a human task, assigned by area, role and workload unless an assignee is given. */
  const openTask = async (
    kind: string,
    options: {
      role: RoleCode
      areaCode: string
      candidateAreas: string[]
      assigneeId?: string | null
      escalationLevel?: number
      approvalOf?: string | null
      sentBackReason?: string
    },
  ): Promise<HumanTask> => {
    const s = current()
    const assigneeId =
      options.assigneeId !== undefined
        ? options.assigneeId
        : await pickAssignee({
            role: options.role,
            areaCodes: options.candidateAreas,
            clearance: s.sensitive,
          })
    const createdAt = now()
    const target = (s.context.policy.targets as Record<string, number>)[kind]
    const task: HumanTask = {
      id: `${s.caseId}-T${s.nextTaskNo}`,
      kind,
      status: assigneeId ? 'claimed' : 'open',
      candidateRole: options.role,
      areaCode: options.areaCode,
      assigneeId,
      requiresClearance: s.sensitive,
      createdAt: createdAt.toISOString(),
      dueAt: target ? addWorkingTime(calendar(), createdAt, target).toISOString() : null,
      ...(options.escalationLevel ? { escalationLevel: options.escalationLevel } : {}),
      ...(options.approvalOf !== undefined
        ? { approval: { required: 1, proposerId: options.approvalOf, decisions: [] } }
        : {}),
      ...(options.sentBackReason ? { sentBackReason: options.sentBackReason } : {}),
    }
    s.nextTaskNo += 1
    s.tasks.push(task)
    await emit(
      'task.created',
      SYSTEM_ACTOR,
      null,
      { taskId: task.id, kind, assigneeId },
      {
        tasks: [taskProjection(task)],
        notify: assigneeId
          ? [
              options.escalationLevel
                ? {
                    template: 'escalation',
                    to: { userId: assigneeId },
                    params: { level: String(options.escalationLevel) },
                  }
                : {
                    template: 'new_task',
                    to: { userId: assigneeId },
                    params: { taskKind: kind, dueAt: task.dueAt ?? undefined },
                  },
            ]
          : [],
      },
    )
    return task
  }

  const replaceTask = (task: HumanTask) => {
    const s = current()
    s.tasks = s.tasks.map((t) => (t.id === task.id ? task : t))
  }

  /** Closes the case now: open tasks cancelled, the clock stopped. */
  const close = async (reason: string, actor: Actor, extra: Pick<CaseEvent, 'links'> = {}) => {
    const s = current()
    const at = now().toISOString()
    const cancelled = s.tasks.filter(isOpen).map(cancelTask)
    s.tasks = s.tasks.map((t) => cancelled.find((c) => c.id === t.id) ?? t)
    const clockEvent = appendClock({ type: 'stopped', at })
    const before = { status: s.status, stage: s.stage }
    s.status = 'closed'
    s.closedAt = at
    s.closeReason = reason
    setStage('closed')
    await emit(
      'case.closed',
      actor,
      before,
      { status: 'closed', stage: 'closed', closeReason: reason },
      {
        data: clockEvent ? { clock: clockEvent } : undefined,
        tasks: cancelled.map(taskProjection),
        ...extra,
      },
    )
  }

  const appendClock = (event: SlaClockEvent): SlaClockEvent | undefined => {
    const s = current()
    if (slaEventProblem(s.clock, event)) return undefined
    s.clock = [...s.clock, event]
    return event
  }

  const assertOpen = () => {
    if (current().status === 'closed') {
      throw ApplicationFailure.nonRetryable(
        `case ${current().caseId} is closed`,
        ErrorCode.CASE_CLOSED,
      )
    }
  }
  const refuseUnless = (ok: boolean, code: ErrorCode, message: string) => {
    if (!ok) throw ApplicationFailure.nonRetryable(message, code)
  }

  // ---- Messages. Handlers are registered before the first await: messages may be waiting. ----

  setHandler(caseSnapshotQuery, () => current())
  setHandler(grievanceViewQuery, () => ({ ...current(), sla: sla() }))

  const validateTaskCommand = (taskId: string, apply: (task: HumanTask) => HumanTask) => {
    assertOpen()
    apply(findTask(current().tasks, taskId))
  }
  const taskUpdate = async (type: string, actor: Actor, task: HumanTask) => {
    replaceTask(task)
    await emit(
      type,
      actor,
      null,
      { taskId: task.id, status: task.status, assigneeId: task.assigneeId },
      { tasks: [taskProjection(task)] },
    )
    return task
  }

  setHandler(
    claimTaskUpdate,
    (c) =>
      taskUpdate('task.claimed', c.actor, claimTask(findTask(current().tasks, c.taskId), c.actor)),
    { validator: (c) => validateTaskCommand(c.taskId, (t) => claimTask(t, c.actor)) },
  )
  setHandler(
    unclaimTaskUpdate,
    (c) =>
      taskUpdate(
        'task.unclaimed',
        c.actor,
        unclaimTask(findTask(current().tasks, c.taskId), c.actor),
      ),
    { validator: (c) => validateTaskCommand(c.taskId, (t) => unclaimTask(t, c.actor)) },
  )
  setHandler(
    reassignTaskUpdate,
    (c) =>
      taskUpdate(
        'task.reassigned',
        c.actor,
        reassignTask(findTask(current().tasks, c.taskId), c.actor, c.assigneeId),
      ),
    {
      validator: (c) =>
        validateTaskCommand(c.taskId, (t) => reassignTask(t, c.actor, c.assigneeId)),
    },
  )

  const completion = (c: { taskId: string; actor: Actor; data: unknown }) => {
    const task = findTask(current().tasks, c.taskId)
    const schema = (taskForms as Record<string, ZodType<Record<string, unknown>>>)[task.kind]
    const result = schema ? parseForm(schema, c.data) : {}
    return completeTask(task, c.actor, result, now().toISOString())
  }
  setHandler(
    completeTaskUpdate,
    async (c) => {
      // State changes before the first await: a concurrent completion's validator sees it.
      const task = completion(c)
      replaceTask(task)
      await emit(
        task.approval ? 'approval.decided' : 'task.completed',
        c.actor,
        null,
        {
          taskId: task.id,
          kind: task.kind,
          status: task.status,
          ...projectableResult(task.kind, task.result ?? {}),
        },
        { tasks: [taskProjection(task)] },
      )
      return task
    },
    {
      validator: (c) => {
        assertOpen()
        completion(c)
      },
    },
  )

  const clockCommand = (event: SlaClockEvent) => {
    const problem = slaEventProblem(current().clock, event)
    if (problem) throw ApplicationFailure.nonRetryable(`SLA clock: ${problem}`, problem)
  }
  const clockUpdate = async (type: string, actor: Actor, event: SlaClockEvent) => {
    current().clock = [...current().clock, event]
    await emit(type, actor, null, { clock: event.type }, { data: { clock: event } })
    return sla()
  }
  setHandler(
    pauseSlaUpdate,
    (c) =>
      clockUpdate('sla.paused', c.actor, {
        type: 'paused',
        at: now().toISOString(),
        reason: c.reason,
      }),
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          ['waiting_complainant', 'waiting_partner', 'access_impossible', 'other'].includes(
            c.reason,
          ),
          ErrorCode.INVALID_COMMAND,
          'unknown pause reason',
        )
        clockCommand({ type: 'paused', at: now().toISOString(), reason: c.reason })
      },
    },
  )
  setHandler(
    resumeSlaUpdate,
    (c) => clockUpdate('sla.resumed', c.actor, { type: 'resumed', at: now().toISOString() }),
    {
      validator: (_c) => {
        assertOpen()
        clockCommand({ type: 'resumed', at: now().toISOString() })
      },
    },
  )
  setHandler(
    extendSlaUpdate,
    (c) =>
      clockUpdate('sla.extended', c.actor, {
        type: 'extended',
        at: now().toISOString(),
        byMs: c.byMs,
        reason: c.reason,
      }),
    {
      validator: (c) => {
        assertOpen()
        // An extension is a supervisor's grant.
        refuseUnless(
          c.actor.role === 'supervisor',
          ErrorCode.NOT_ALLOWED,
          'only a supervisor extends a deadline',
        )
        refuseUnless(
          typeof c.reason === 'string' && c.reason.trim().length >= 3,
          ErrorCode.INVALID_COMMAND,
          'an extension needs a reason',
        )
        clockCommand({ type: 'extended', at: now().toISOString(), byMs: c.byMs, reason: c.reason })
      },
    },
  )

  setHandler(
    withdrawUpdate,
    async (c) => {
      await close('withdrawn', c.actor)
      return current()
    },
    { validator: (_c) => assertOpen() },
  )
  setHandler(
    closeCaseUpdate,
    async (c) => {
      await close(c.reason, c.actor)
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          /^[a-z_]{2,40}$/.test(c.reason ?? ''),
          ErrorCode.INVALID_COMMAND,
          'reason must be a reason code (lowercase letters and underscores)',
        )
        refuseUnless(
          c.actor.role === 'supervisor' || c.actor.role === 'system',
          ErrorCode.NOT_ALLOWED,
          'only a supervisor closes a case',
        )
      },
    },
  )
  setHandler(
    markDuplicateUpdate,
    async (c) => {
      current().duplicateOf = c.duplicateOf
      await close('duplicate', c.actor, {
        links: [{ toCaseId: c.duplicateOf, kind: 'duplicate_of' }],
      })
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          c.duplicateOf !== current().caseId && /^[A-Za-z0-9-]{1,64}$/.test(c.duplicateOf ?? ''),
          ErrorCode.INVALID_COMMAND,
          'duplicateOf must be another case id',
        )
      },
    },
  )
  setHandler(
    recordSatisfactionUpdate,
    async (c) => {
      current().satisfaction = c.satisfaction
      await emit('case.satisfaction_recorded', c.actor, null, { satisfaction: c.satisfaction })
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          ['outcome', 'appeal_window'].includes(current().stage),
          ErrorCode.WRONG_STAGE,
          'satisfaction is recorded once the outcome is communicated',
        )
        refuseUnless(
          ['satisfied', 'partly_satisfied', 'not_satisfied', 'not_reached'].includes(
            c.satisfaction,
          ),
          ErrorCode.INVALID_COMMAND,
          'unknown satisfaction level',
        )
      },
    },
  )

  setHandler(
    addNoteUpdate,
    async (c) => {
      const s = current()
      const note = {
        no: (s.notes?.length ?? 0) + 1,
        by: c.actor.userId,
        role: c.actor.role,
        at: now().toISOString(),
        text: c.text.trim(),
      }
      s.notes = [...(s.notes ?? []), note]
      // The projection records that a note was added, never its text.
      await emit('case.note_added', c.actor, null, { noteNo: note.no })
      return note
    },
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          c.actor.userId !== null && c.actor.role !== 'public',
          ErrorCode.NOT_ALLOWED,
          'notes are written by staff',
        )
        refuseUnless(
          typeof c.text === 'string' && c.text.trim().length >= 2 && c.text.length <= 5000,
          ErrorCode.INVALID_COMMAND,
          'a note has 2 to 5000 characters',
        )
      },
    },
  )
  setHandler(
    linkCaseUpdate,
    async (c) => {
      const s = current()
      s.links = [...(s.links ?? []), { toCaseId: c.toCaseId, kind: c.kind }]
      await emit(
        'case.linked',
        c.actor,
        null,
        { toCaseId: c.toCaseId, kind: c.kind },
        {
          links: [{ toCaseId: c.toCaseId, kind: c.kind }],
        },
      )
      return current()
    },
    {
      validator: (c) => {
        assertOpen()
        refuseUnless(
          ['related', 'spawned', 'appeal_of'].includes(c.kind) &&
            c.toCaseId !== current().caseId &&
            /^[A-Za-z0-9-]{1,64}$/.test(c.toCaseId ?? ''),
          ErrorCode.INVALID_COMMAND,
          'a link needs another case id and a kind (related, spawned, appeal_of)',
        )
        refuseUnless(
          !(current().links ?? []).some((l) => l.toCaseId === c.toCaseId && l.kind === c.kind),
          ErrorCode.INVALID_COMMAND,
          'this link exists already',
        )
      },
    },
  )

  // ---- Opening. ----

  if ('reopen' in input) {
    // A new run for a closed case: back to investigation, with a fresh resolve clock (the audit
    // log's clock restarts at `case.reopened`) and the reason given to the investigator.
    const { state: previous, actor: by, reason } = input.reopen
    const at = now().toISOString()
    const started: SlaClockEvent = {
      type: 'started',
      at,
      targetMs: previous.context.policy.targets.resolve,
    }
    state = {
      ...previous,
      status: 'open',
      stage: 'investigation',
      closedAt: undefined,
      closeReason: undefined,
      appealWindowEndsAt: undefined,
      satisfaction: undefined,
      clock: [started],
      escalationLevel: 0,
      alerted: [],
    }
    upsertSearchAttributes([
      { key: CaseKindKey, value: state.kind },
      { key: CaseAreaKey, value: state.areaCode },
      { key: CasePriorityKey, value: state.priority },
      { key: CaseStageKey, value: 'investigation' },
      { key: CaseSlaStateKey, value: 'on_track' },
    ])
    await emit(
      'case.reopened',
      by,
      { status: 'closed', stage: 'closed' },
      { status: 'open', stage: 'investigation', reason },
      { data: { clock: started } },
    )
    await openTask('investigation', {
      role: 'case_worker',
      areaCode: state.context.areaPath[0]!,
      candidateAreas: state.sensitive ? state.context.areaPath : [state.context.areaPath[0]!],
      assigneeId: previous.resolution?.proposedBy ?? undefined,
      sentBackReason: reason,
    })
  } else if (!state) {
    const opening = input as OpenCaseInput
    const context = await loadCaseContext({
      kind: opening.kind,
      category: opening.category,
      priority: opening.priority,
      areaCode: opening.areaCode,
    })
    const openedAt = now().toISOString()
    const sensitive =
      opening.sensitive ||
      (opening.category ? context.sensitiveCategories.includes(opening.category) : false)
    const started: SlaClockEvent = {
      type: 'started',
      at: openedAt,
      targetMs: context.policy.targets.resolve,
    }
    state = {
      caseId: opening.caseId,
      reference: opening.reference,
      kind: opening.kind,
      status: 'open',
      stage: 'uptake',
      areaCode: opening.areaCode,
      category: opening.category,
      channel: opening.channel,
      priority: opening.priority,
      sensitive,
      openedAt,
      seq: 0,
      context,
      tasks: [],
      nextTaskNo: 1,
      clock: [started],
      escalationLevel: 0,
      alerted: [],
    }
    upsertSearchAttributes([
      { key: CaseKindKey, value: opening.kind },
      { key: CaseAreaKey, value: opening.areaCode },
      { key: CasePriorityKey, value: opening.priority },
      { key: CaseStageKey, value: 'uptake' },
      { key: CaseSlaStateKey, value: 'on_track' },
    ])
    const acknowledge: NotificationIntent[] = opening.contact?.email
      ? [{ template: 'acknowledgement', to: { complainant: true }, params: {} }]
      : []
    // The acknowledgement (reference, by email when there is an address) is immediate: the
    // acknowledge target is met at uptake.
    await emit(
      'case.opened',
      opening.openedBy,
      null,
      {
        status: 'open',
        stage: 'uptake',
        channel: opening.channel ?? null,
        anonymous: opening.anonymous ?? false,
      },
      {
        data: { clock: started, policy: context.policy, areaPath: context.areaPath },
        contact: opening.contact,
        notify: acknowledge,
      },
    )
  }

  // ---- The SLA watcher: reminders at the at-risk threshold, escalation at each breach. ----

  /** The resolve clock as if its target were `extraMs` longer: level k breaches at target + (k-1) × repeat. */
  const statusAtLevel = (level: number, at: Date): SlaStatus => {
    const s = current()
    const clock = s.clock
    const shift = (level - 1) * s.context.policy.targets.escalationRepeat
    if (shift <= 0) return sla(at)
    const last = clock[clock.length - 1]!
    return slaStatus(
      calendar(),
      [
        ...clock.filter((e) => e.type !== 'stopped'),
        { type: 'extended', at: last.at, byMs: shift, reason: 'escalation_ladder' },
        ...clock.filter((e) => e.type === 'stopped'),
      ],
      at,
      s.context.policy.atRiskRatio,
    )
  }

  const checkDeadlines = async (): Promise<number | undefined> => {
    const s = current()
    const at = now()
    const status = sla(at)
    upsertSearchAttributes([{ key: CaseSlaStateKey, value: status.state }])
    if (status.state === 'met' || s.status === 'closed') return undefined
    if (
      (status.state === 'at_risk' || status.state === 'breached') &&
      !s.alerted.includes('risk')
    ) {
      s.alerted.push('risk')
      const assignees = [
        ...new Set(
          s.tasks
            .filter(isOpen)
            .map((t) => t.assigneeId)
            .filter((u): u is string => !!u),
        ),
      ]
      await emit(
        'sla.at_risk',
        SYSTEM_ACTOR,
        null,
        { dueAt: status.dueAt },
        {
          notify: assignees.map((userId) => ({
            template: 'task_reminder',
            to: { userId },
            params: { dueAt: status.dueAt ?? undefined },
          })),
        },
      )
    }
    while (
      s.escalationLevel < MAX_ESCALATION &&
      statusAtLevel(s.escalationLevel + 1, at).breachedAt
    ) {
      const level = s.escalationLevel + 1
      s.escalationLevel = level
      const areaCode = s.context.areaPath[Math.min(level, s.context.areaPath.length - 1)]!
      const role: RoleCode = level >= MAX_ESCALATION ? 'programme_manager' : 'supervisor'
      await emit(
        'case.escalated',
        SYSTEM_ACTOR,
        { escalationLevel: level - 1 },
        { escalationLevel: level, areaCode },
      )
      // The escalation task's own notification is the escalation email (not a "new task" one).
      await openTask('escalation', {
        role,
        areaCode,
        candidateAreas: [areaCode],
        escalationLevel: level,
      })
    }
    // Next wake-up: the at-risk instant if not yet alerted, else the next level's breach.
    const candidates: number[] = []
    if (!s.alerted.includes('risk') && status.atRiskAt) candidates.push(Date.parse(status.atRiskAt))
    if (s.escalationLevel < MAX_ESCALATION) {
      const next = statusAtLevel(s.escalationLevel + 1, at).dueAt
      if (next) candidates.push(Date.parse(next))
    }
    return candidates.length ? Math.min(...candidates) : undefined
  }

  const watchDeadlines = async () => {
    while (current().status !== 'closed') {
      const wakeAt = await checkDeadlines()
      const seen = version
      const closedOrChanged = () => version !== seen || current().status === 'closed'
      if (wakeAt === undefined) await condition(closedOrChanged)
      else await condition(closedOrChanged, Math.max(1, wakeAt - Date.now()))
    }
  }

  // ---- The lifecycle, as resumable steps over the state (continue-as-new can cut between). ----

  const s0 = current()
  const commune = s0.context.areaPath[0]!
  const workerAreas = () => (current().sensitive ? current().context.areaPath : [commune])
  const waitFor = (task: HumanTask) =>
    condition(() => current().status === 'closed' || !isOpen(findTask(current().tasks, task.id)))
  const latest = (kind: string) => [...current().tasks].reverse().find((t) => t.kind === kind)

  /**
   * Action stage: an upheld exclusion grievance that names a household spawns the household's
   * re-verification (a case of its own, `RV-<grievance id>`, that outlives the grievance), once.
   */
  const reverificationDue = (): string | undefined => {
    const s = current()
    const householdId = latest('investigation')?.result?.householdId
    if (
      s.category !== 'exclusion_error' ||
      typeof householdId !== 'string' ||
      !['upheld', 'partly_upheld'].includes(s.resolution?.proposedResolution ?? '') ||
      (s.links ?? []).some((l) => l.toCaseId === spawnedReverificationId(s.caseId)) ||
      // Cases that reached this point before spawning existed replay as they ran.
      !patched('spawn-reverification')
    ) {
      return undefined
    }
    return householdId
  }
  const spawnReverification = async (householdId: string) => {
    const s = current()
    const rvId = spawnedReverificationId(s.caseId)
    try {
      await startChild('reverificationWorkflow', {
        workflowId: caseWorkflowId(rvId),
        args: [
          {
            caseId: rvId,
            householdId,
            areaCode: commune,
            trigger: 'grievance',
            parentCaseId: s.caseId,
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
    s.links = [...(s.links ?? []), { toCaseId: rvId, kind: 'spawned' }]
    // The link row itself is written by the new case's opening (both rows must exist).
    await emit('case.spawned', SYSTEM_ACTOR, null, { toCaseId: rvId, kind: 'reverification' })
  }

  const step = async () => {
    const s = current()
    switch (s.stage) {
      case 'uptake': {
        setStage('triage')
        await openTask('triage', {
          role: 'case_worker',
          areaCode: commune,
          candidateAreas: workerAreas(),
        })
        return
      }
      case 'triage': {
        const task = latest('triage')!
        await waitFor(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        const form = done.result as TriageForm
        const before = {
          category: s.category ?? null,
          sensitive: s.sensitive,
          priority: s.priority,
        }
        s.category = form.category
        s.sensitive = form.sensitive || s.context.sensitiveCategories.includes(form.category)
        s.priority = form.priority
        upsertSearchAttributes([{ key: CasePriorityKey, value: s.priority }])
        setStage('investigation')
        await emit(
          'case.triaged',
          done.completedBy ? { userId: done.completedBy, role: 'case_worker' } : SYSTEM_ACTOR,
          before,
          {
            category: s.category,
            sensitive: s.sensitive,
            priority: s.priority,
          },
        )
        await openTask('investigation', {
          role: 'case_worker',
          areaCode: commune,
          candidateAreas: workerAreas(),
        })
        return
      }
      case 'investigation': {
        const task = latest('investigation')!
        await waitFor(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        const form = done.result as InvestigationForm
        s.resolution = {
          proposedResolution: form.proposedResolution,
          changesEligibilityOrPayment: form.changesEligibilityOrPayment,
          proposedBy: done.completedBy ?? null,
          approved: null,
        }
        if (requiresApproval(form, s.sensitive)) {
          setStage('approval')
          // Sensitive cases are approved by a designated supervisor of the region, not the cercle.
          const cercle = s.context.areaPath[s.sensitive ? 2 : 1] ?? commune
          await openTask('approval', {
            role: 'supervisor',
            areaCode: cercle,
            candidateAreas: [cercle],
            approvalOf: done.completedBy ?? null,
          })
        } else {
          setStage('outcome')
        }
        return
      }
      case 'approval': {
        const task = latest('approval')!
        await waitFor(task)
        const done = findTask(current().tasks, task.id)
        if (current().status === 'closed' || done.status !== 'completed') return
        const approved = done.result?.decision === 'approve'
        s.resolution = { ...s.resolution!, approved }
        if (approved) {
          setStage('outcome')
          return
        }
        // Rejection sends the investigation back, with the reason, to the one who proposed it.
        setStage('investigation')
        await openTask('investigation', {
          role: 'case_worker',
          areaCode: commune,
          candidateAreas: workerAreas(),
          assigneeId: s.resolution.proposedBy ?? undefined,
          sentBackReason: typeof done.result?.reason === 'string' ? done.result.reason : 'rejected',
        })
        return
      }
      case 'outcome': {
        // Only an actual spawn awaits: an extra await here would reorder the commands of
        // running cases (the deadline watcher runs alongside) and break their replay.
        const householdId = reverificationDue()
        if (householdId) await spawnReverification(householdId)
        const at = now()
        const stopped = appendClock({ type: 'stopped', at: at.toISOString() })
        s.appealWindowEndsAt = iso(at.getTime() + s.context.policy.targets.appealWindow)
        setStage('appeal_window')
        await emit(
          'case.resolved',
          SYSTEM_ACTOR,
          null,
          {
            resolution: s.resolution?.proposedResolution ?? null,
            appealWindowEndsAt: s.appealWindowEndsAt,
          },
          {
            data: stopped ? { clock: stopped } : undefined,
            notify: [{ template: 'outcome', to: { complainant: true }, params: {} }],
          },
        )
        return
      }
      case 'appeal_window': {
        const seen = version
        const ends = Date.parse(s.appealWindowEndsAt!)
        await condition(
          () => current().status === 'closed' || version !== seen,
          Math.max(1, ends - Date.now()),
        )
        if (current().status !== 'closed' && Date.now() >= ends)
          await close('resolved', SYSTEM_ACTOR)
        return
      }
      case 'closed':
        return
    }
  }

  void watchDeadlines()
  while (current().status !== 'closed') {
    const info = workflowInfo()
    const limit = current().context.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE
    if (info.continueAsNewSuggested || info.historyLength > limit) {
      // Deliveries are not awaited: their outbox rows outlive this run (the sweeper finishes them).
      await projecting
      await condition(allHandlersFinished)
      await continueAsNew<typeof legacyGrievanceWorkflow>({ resume: current() })
    }
    await step()
  }
  await projecting
  await condition(allHandlersFinished)
  await Promise.all(deliveries)
  return current()
}
