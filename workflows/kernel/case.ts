import {
  allHandlersFinished,
  ApplicationFailure,
  continueAsNew,
  setHandler,
  workflowInfo,
} from '@temporalio/workflow'
import { projectableResult } from '../forms'
import {
  caseSnapshotQuery,
  ErrorCode,
  SYSTEM_ACTOR,
  type Actor,
  type CaseEvent,
  type CaseNote,
  type CaseSnapshot,
  type ProjectionItem,
  type RoleCode,
  type TaskProjection,
} from '../messages'
import {
  CaseAreaKey,
  CaseKindKey,
  CasePriorityKey,
  CaseSlaStateKey,
  CaseStageKey,
} from '../search-attributes'
import { addWorkingTime, type BusinessCalendar } from './calendar'
import { createRecorder, type EventExtra } from './recorder'
import { local } from './reference'
import { slaEventProblem, slaStatus, type SlaClockEvent, type SlaStatus } from './sla'
import { cancelTask, findTask, isOpen, type HumanTask } from './tasks'

// Picking an assignee reads PostgreSQL: a local activity in the same workflow task.
const { pickAssignee, pickAssigneeExcept } = local

/** Histories stay small: continue as new well before Temporal's limits (operators may lower). */
export const HISTORY_EVENTS_BEFORE_CONTINUE = 5_000

/** What every case kind's state holds for the kernel (DESIGN §3). */
export interface KernelState extends CaseSnapshot {
  context: {
    policy: {
      targets: Partial<Record<string, number>>
      atRiskRatio: number
      calendar: BusinessCalendar
    }
    /** The case's area and its ancestors: [commune, cercle, region, national]. */
    areaPath: string[]
    historyLimit?: number
  }
  tasks: HumanTask[]
  nextTaskNo: number
  /** The whole case's (resolve) clock; the SLA state is recomputable from it alone. */
  clock?: SlaClockEvent[]
  escalationLevel?: number
  /** Keys of reminders and escalations already sent, so none is sent twice. */
  alerted?: string[]
  /** Notes by staff (and partners): text only in the encrypted history and the live state. */
  notes?: (Omit<CaseNote, 'no' | 'role'> & Partial<Pick<CaseNote, 'no' | 'role'>>)[]
  links?: { toCaseId: string; kind: 'related' | 'spawned' | 'appeal_of' }[]
}

export interface OpenTaskOptions {
  role: RoleCode
  areaCode: string
  /** Given (or null: unassigned), or picked by workload among `candidateAreas`. */
  assigneeId?: string | null
  candidateAreas?: string[]
  /** Nobody of these may be picked (the deciders of a contested case). */
  except?: string[]
  /** Working ms to the task's due time; by default the policy's target named as the task. */
  targetMs?: number
  approval?: HumanTask['approval']
  sentBackReason?: string
  escalationLevel?: number
}

export function refuseUnless(ok: boolean, code: ErrorCode, message: string): asserts ok {
  if (!ok) throw ApplicationFailure.nonRetryable(message, code)
}

/**
 * The case kernel every kind runs on: events recorded in order and projected once per command,
 * human tasks, closing, the SLA clock, and the lifecycle loop with continue-as-new. The kind's
 * workflow function creates it before its first await, registers its own handlers, and hands
 * `run` its step function.
 */
export function createKernel<S extends KernelState>(opts: {
  state: () => S
  /** Extra fields of the projected case row (household, parent case…). */
  snapshot?: () => Partial<CaseEvent['snapshot']>
  row?: () => ProjectionItem['referral']
  /** Free-text fields of task results, by task kind: never projected. */
  freeText?: Record<string, string[]>
}) {
  const now = () => new Date()
  let version = 0
  const s = () => opts.state()
  const calendar = () => s().context.policy.calendar
  const sla = (at = now()): SlaStatus | undefined => {
    const clock = s().clock
    return clock?.length
      ? slaStatus(calendar(), clock, at, s().context.policy.atRiskRatio)
      : undefined
  }

  const rec = createRecorder({
    state: () => s(),
    changed: () => {
      version += 1
    },
    row: opts.row,
    snapshot: () => {
      const status = sla()
      return {
        slaState: status?.state ?? 'on_track',
        resolveDueAt: status?.dueAt ?? null,
        escalationLevel: s().escalationLevel ?? 0,
        ...opts.snapshot?.(),
      }
    },
  })

  const taskProjection = (t: HumanTask): TaskProjection => {
    const fields = opts.freeText?.[t.kind] ?? []
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

  const emit = (
    type: string,
    actor: Actor,
    before: Record<string, unknown> | null,
    after: Record<string, unknown>,
    extra?: EventExtra,
  ) => rec.emit(type, actor, before, after, extra)

  const setStage = (stage: string) => {
    s().stage = stage
    rec.upsert([[CaseStageKey, stage]])
  }

  const replaceTask = (task: HumanTask) => {
    s().tasks = s().tasks.map((t) => (t.id === task.id ? task : t))
  }

  const openTask = async (kind: string, o: OpenTaskOptions): Promise<HumanTask> => {
    const st = s()
    let assigneeId = o.assigneeId
    if (assigneeId === undefined) {
      // Workload counts open tasks in PostgreSQL: this case's finished ones may not be there yet.
      const settled = st.tasks.filter((t) => !isOpen(t)).map((t) => t.id)
      const pick = {
        role: o.role,
        areaCodes: o.candidateAreas ?? [o.areaCode],
        clearance: st.sensitive,
        ...(settled.length ? { settledTaskIds: settled } : {}),
      }
      assigneeId = o.except
        ? await pickAssigneeExcept({ ...pick, role: pick.role as 'supervisor', except: o.except })
        : await pickAssignee(pick)
    }
    const createdAt = now()
    const target = o.targetMs ?? st.context.policy.targets[kind]
    const task: HumanTask = {
      id: `${st.caseId}-T${st.nextTaskNo}`,
      kind,
      status: assigneeId ? 'claimed' : 'open',
      candidateRole: o.role,
      areaCode: o.areaCode,
      assigneeId,
      requiresClearance: st.sensitive,
      createdAt: createdAt.toISOString(),
      dueAt: target ? addWorkingTime(calendar(), createdAt, target).toISOString() : null,
      ...(o.escalationLevel ? { escalationLevel: o.escalationLevel } : {}),
      ...(o.approval ? { approval: o.approval } : {}),
      ...(o.sentBackReason ? { sentBackReason: o.sentBackReason } : {}),
    }
    st.nextTaskNo += 1
    st.tasks.push(task)
    emit(
      'task.created',
      SYSTEM_ACTOR,
      null,
      { taskId: task.id, kind, assigneeId },
      {
        tasks: [taskProjection(task)],
        notify: assigneeId
          ? [
              o.escalationLevel
                ? {
                    template: 'escalation',
                    to: { userId: assigneeId },
                    params: { level: String(o.escalationLevel) },
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

  /** Appends to the case clock when the event is valid there (a stopped clock stays stopped). */
  const appendClock = (event: SlaClockEvent): SlaClockEvent | undefined => {
    const st = s()
    if (!st.clock?.length || slaEventProblem(st.clock, event)) return undefined
    st.clock = [...st.clock, event]
    return event
  }

  const assertOpen = () => {
    refuseUnless(s().status !== 'closed', ErrorCode.CASE_CLOSED, `case ${s().caseId} is closed`)
  }

  /** Closes the case now: open tasks cancelled, the clock stopped, `case.closed` recorded. */
  const close = (reason: string, actor: Actor, extra: EventExtra = {}) => {
    const st = s()
    const at = now().toISOString()
    const cancelled = st.tasks.filter(isOpen).map(cancelTask)
    st.tasks = st.tasks.map((t) => cancelled.find((c) => c.id === t.id) ?? t)
    const stopped = appendClock({ type: 'stopped', at })
    const before = { status: st.status, stage: st.stage }
    st.status = 'closed'
    st.closedAt = at
    st.closeReason = reason
    setStage('closed')
    emit(
      'case.closed',
      actor,
      before,
      { status: 'closed', stage: 'closed', closeReason: reason },
      {
        ...extra,
        ...(stopped ? { data: { ...extra.data, clock: stopped } } : {}),
        tasks: cancelled.map(taskProjection),
      },
    )
  }

  const closed = () => s().status === 'closed'
  /** Parks the lifecycle until the task is no longer open (or the case closes). */
  const waitTask = (taskId: string, timeoutMs?: number) =>
    rec.wait(() => closed() || !isOpen(findTask(s().tasks, taskId)), timeoutMs)
  const latest = (kind: string) => [...s().tasks].reverse().find((t) => t.kind === kind)

  setHandler(caseSnapshotQuery, () => s())

  /**
   * Runs the lifecycle: `step` moves the case from stage to stage until it closes; between steps
   * the case continues as new once its history passes the operator's limit, after draining the
   * projection and the handlers. `resume` is what the next run starts from.
   */
  const run = async (
    step: () => Promise<void>,
    options: {
      watch?: () => Promise<void>
      resume: (state: S) => unknown
    },
  ): Promise<S> => {
    if (options.watch) void rec.spawn(options.watch)
    while (!closed()) {
      const info = workflowInfo()
      const limit = s().context.historyLimit ?? HISTORY_EVENTS_BEFORE_CONTINUE
      if (info.continueAsNewSuggested || info.historyLength > limit) {
        // Parked meanwhile: a handler answers once the case is quiet. Whatever was recorded
        // while the handlers finished (a deadline falling due) is projected before this run ends.
        do {
          await rec.drained()
          await rec.wait(allHandlersFinished)
        } while (rec.pending())
        await continueAsNew(options.resume(s()))
      }
      await step()
    }
    await rec.wait(allHandlersFinished)
    await rec.stop()
    return s()
  }

  /** Seeds the search attributes given at start, so that none is upserted again unchanged. */
  const opened = () => {
    const st = s()
    const given = workflowInfo().typedSearchAttributes
    for (const key of [CaseKindKey, CaseAreaKey, CasePriorityKey, CaseStageKey, CaseSlaStateKey]) {
      const value = given.get(key)
      if (value !== undefined) rec.remember(key.name, value)
    }
    rec.upsert([
      [CaseKindKey, st.kind],
      [CaseAreaKey, st.areaCode],
      [CasePriorityKey, st.priority],
      [CaseStageKey, st.stage],
      [CaseSlaStateKey, sla()?.state ?? 'on_track'],
    ])
  }

  /** The opening: search attributes the start did not give, then `case.opened` at its stage. */
  const recordOpening = (actor: Actor, after: Record<string, unknown>, extra?: EventExtra) => {
    opened()
    emit('case.opened', actor, null, { status: 'open', stage: s().stage, ...after }, extra)
  }

  return {
    rec,
    state: s,
    recordOpening,
    emit,
    setStage,
    openTask,
    replaceTask,
    appendClock,
    assertOpen,
    close,
    closed,
    waitTask,
    latest,
    sla,
    taskProjection,
    run,
    opened,
    version: () => version,
    now,
    calendar,
  }
}

export type Kernel<S extends KernelState = KernelState> = ReturnType<typeof createKernel<S>>
