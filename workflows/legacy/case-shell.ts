import {
  ApplicationFailure,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { ZodType } from 'zod'
import { projectableResult } from '../forms'
import { addWorkingTime, type BusinessCalendar } from '../kernel/calendar'
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
  claimTaskUpdate,
  completeTaskUpdate,
  ErrorCode,
  reassignTaskUpdate,
  SYSTEM_ACTOR,
  unclaimTaskUpdate,
  type Actor,
  type CaseEvent,
  type CaseSnapshot,
  type RoleCode,
  type TaskProjection,
} from '../messages'
import { CaseStageKey } from '../search-attributes'

/**
 * What the referral, appeal and re-verification workflows share: recording events in order for
 * the projection, opening human tasks, closing the case, and the task Updates (claim, unclaim,
 * reassign, complete) under the same names as a grievance's, so that `/api/tasks` serves every
 * case kind alike.
 */

export interface ShellState extends CaseSnapshot {
  tasks: HumanTask[]
  nextTaskNo: number
}

export interface Shell {
  emit(
    type: string,
    actor: Actor,
    before: Record<string, unknown> | null,
    after: Record<string, unknown>,
    extra?: Pick<CaseEvent, 'data' | 'tasks' | 'notify' | 'links'>,
  ): Promise<void>
  /** Resolves once every event recorded so far is projected. */
  settled(): Promise<void>
  setStage(stage: string): void
  openTask(
    kind: string,
    options: {
      role: RoleCode
      areaCode: string
      assigneeId: string | null
      targetMs?: number
      approval?: HumanTask['approval']
      /** Why the task comes back to its assignee (a rejected proposal). */
      sentBackReason?: string
    },
  ): Promise<HumanTask>
  taskProjection(task: HumanTask): TaskProjection
  /** Refuses a command on a closed case. */
  assertOpen(): void
  /** Closes the case: its open tasks cancelled, `case.closed` recorded. */
  closeCase(
    reason: string,
    actor: Actor,
    options?: { before?: Record<string, unknown>; data?: CaseEvent['data'] },
  ): Promise<void>
  /** Registers the task Updates; `check` adds the case kind's own rules to a completion. */
  registerTaskHandlers(options: {
    forms: Record<string, ZodType<Record<string, unknown>>>
    check?: (task: HumanTask, actor: Actor) => void
    freeText?: Record<string, string[]>
  }): void
}

export function createShell<S extends ShellState, R = undefined>(opts: {
  state: () => S
  calendar: () => BusinessCalendar
  /** Projects one event (idempotent on workflow id + seq); returns outbox keys to deliver. */
  project: (event: CaseEvent, row: R) => Promise<{ notificationKeys: string[] }>
  /** The case kind's own read-model row, captured when the event is recorded. */
  row?: () => R
  deliver: (key: string) => Promise<unknown>
  /** Extra snapshot fields (SLA state, due time) computed at each event. */
  snapshot?: () => Partial<CaseEvent['snapshot']>
  /** Called on every change so that waiting loops re-evaluate. */
  changed: () => void
}): Shell & { deliveries: Promise<unknown>[] } {
  const { workflowId } = workflowInfo()
  let projecting: Promise<void> = Promise.resolve()
  const deliveries: Promise<unknown>[] = []
  const now = () => new Date()
  let freeText: Record<string, string[]> = {}

  const taskProjection = (t: HumanTask): TaskProjection => {
    const fields = freeText[t.kind] ?? []
    const result = projectableResult(t.kind, t.result)
    return {
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
      result: result
        ? Object.fromEntries(Object.entries(result).filter(([k]) => !fields.includes(k)))
        : null,
      escalationLevel: t.escalationLevel ?? null,
    }
  }

  const emit: Shell['emit'] = (type, actor, before, after, extra = {}) => {
    const s = opts.state()
    s.seq += 1
    opts.changed()
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
        ...opts.snapshot?.(),
      },
    }
    const row = opts.row?.() as R
    projecting = projecting.then(async () => {
      const { notificationKeys } = await opts.project(event, row)
      for (const key of notificationKeys) deliveries.push(opts.deliver(key).catch(() => undefined))
    })
    return projecting
  }

  const setStage = (stage: string) => {
    opts.state().stage = stage
    upsertSearchAttributes([{ key: CaseStageKey, value: stage }])
  }

  const openTask: Shell['openTask'] = async (kind, o) => {
    const s = opts.state()
    const createdAt = now()
    const task: HumanTask = {
      id: `${s.caseId}-T${s.nextTaskNo}`,
      kind,
      status: o.assigneeId ? 'claimed' : 'open',
      candidateRole: o.role,
      areaCode: o.areaCode,
      assigneeId: o.assigneeId,
      requiresClearance: s.sensitive,
      createdAt: createdAt.toISOString(),
      dueAt: o.targetMs
        ? addWorkingTime(opts.calendar(), createdAt, o.targetMs).toISOString()
        : null,
      ...(o.approval ? { approval: o.approval } : {}),
      ...(o.sentBackReason ? { sentBackReason: o.sentBackReason } : {}),
    }
    s.nextTaskNo += 1
    s.tasks.push(task)
    await emit(
      'task.created',
      SYSTEM_ACTOR,
      null,
      { taskId: task.id, kind, assigneeId: o.assigneeId },
      {
        tasks: [taskProjection(task)],
        notify: o.assigneeId
          ? [
              {
                template: 'new_task',
                to: { userId: o.assigneeId },
                params: { taskKind: kind, dueAt: task.dueAt ?? undefined },
              },
            ]
          : [],
      },
    )
    return task
  }

  const replaceTask = (task: HumanTask) => {
    const s = opts.state()
    s.tasks = s.tasks.map((t) => (t.id === task.id ? task : t))
  }
  const assertOpen = () => {
    if (opts.state().status === 'closed') {
      throw ApplicationFailure.nonRetryable('the case is closed', ErrorCode.CASE_CLOSED)
    }
  }

  const closeCase: Shell['closeCase'] = async (reason, actor, o = {}) => {
    const s = opts.state()
    const cancelled = s.tasks.filter(isOpen).map(cancelTask)
    s.tasks = s.tasks.map((t) => cancelled.find((c) => c.id === t.id) ?? t)
    s.status = 'closed'
    s.closedAt = now().toISOString()
    s.closeReason = reason
    setStage('closed')
    await emit(
      'case.closed',
      actor,
      o.before ?? null,
      { status: 'closed', stage: 'closed', closeReason: reason },
      { ...(o.data ? { data: o.data } : {}), tasks: cancelled.map(taskProjection) },
    )
  }

  const registerTaskHandlers: Shell['registerTaskHandlers'] = ({ forms, check, freeText: ft }) => {
    freeText = ft ?? {}
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
    const validate = (taskId: string, apply: (task: HumanTask) => HumanTask) => {
      assertOpen()
      apply(findTask(opts.state().tasks, taskId))
    }
    const find = (id: string) => findTask(opts.state().tasks, id)
    setHandler(
      claimTaskUpdate,
      (c) => taskUpdate('task.claimed', c.actor, claimTask(find(c.taskId), c.actor)),
      {
        validator: (c) => validate(c.taskId, (t) => claimTask(t, c.actor)),
      },
    )
    setHandler(
      unclaimTaskUpdate,
      (c) => taskUpdate('task.unclaimed', c.actor, unclaimTask(find(c.taskId), c.actor)),
      { validator: (c) => validate(c.taskId, (t) => unclaimTask(t, c.actor)) },
    )
    setHandler(
      reassignTaskUpdate,
      (c) =>
        taskUpdate('task.reassigned', c.actor, reassignTask(find(c.taskId), c.actor, c.assigneeId)),
      { validator: (c) => validate(c.taskId, (t) => reassignTask(t, c.actor, c.assigneeId)) },
    )
    const completion = (c: { taskId: string; actor: Actor; data: unknown }) => {
      const task = find(c.taskId)
      check?.(task, c.actor)
      const schema = forms[task.kind]
      const result = schema ? parseForm(schema, c.data) : {}
      return completeTask(task, c.actor, result, now().toISOString())
    }
    setHandler(
      completeTaskUpdate,
      async (c) => {
        const task = completion(c)
        replaceTask(task)
        const projected = taskProjection(task)
        await emit(
          task.approval ? 'approval.decided' : 'task.completed',
          c.actor,
          null,
          {
            taskId: task.id,
            kind: task.kind,
            status: task.status,
            ...((projected.result as Record<string, unknown> | null) ?? {}),
          },
          { tasks: [projected] },
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
  }

  setHandler(caseSnapshotQuery, () => opts.state())

  return {
    emit,
    settled: () => projecting,
    setStage,
    openTask,
    taskProjection,
    assertOpen,
    closeCase,
    registerTaskHandlers,
    deliveries,
  }
}
