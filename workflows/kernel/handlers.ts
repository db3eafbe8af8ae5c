import { ApplicationFailure, setHandler } from '@temporalio/workflow'
import type { ZodType } from 'zod'
import {
  addNoteUpdate,
  claimTaskUpdate,
  closeCaseUpdate,
  completeTaskUpdate,
  ErrorCode,
  extendSlaUpdate,
  linkCaseUpdate,
  PAUSE_REASONS,
  pauseSlaUpdate,
  reassignTaskUpdate,
  resumeSlaUpdate,
  unclaimTaskUpdate,
  withdrawUpdate,
  type Actor,
} from '../messages'
import { refuseUnless, type Kernel, type KernelState } from './case'
import { slaEventProblem, type SlaClockEvent } from './sla'
import {
  claimTask,
  completeTask,
  findTask,
  parseForm,
  reassignTask,
  unclaimTask,
  type HumanTask,
} from './tasks'

const CASE_ID = /^[A-Za-z0-9-]{1,64}$/

/**
 * The task Updates every case kind answers under the same names (claim, unclaim, reassign,
 * complete), so that `/api/tasks` serves every kind alike. Each validates with the pure task
 * functions, applies the change before its first await (a concurrent completion's validator
 * sees it: exactly one of two wins) and answers with the rows its projection wrote.
 */
export function registerTaskHandlers<S extends KernelState>(
  k: Kernel<S>,
  options: {
    forms: Record<string, ZodType<Record<string, unknown>>>
    /** The kind's own rules on a completion (independence of an appeal's reviewer…). */
    check?: (task: HumanTask, actor: Actor) => void
  },
) {
  const find = (id: string) => findTask(k.state().tasks, id)
  const answer = async (task: HumanTask) => ({
    ...task,
    projected: await k.rec.answer([task.id]),
  })
  const taskUpdate = (type: string, actor: Actor, task: HumanTask) => {
    k.replaceTask(task)
    k.emit(
      type,
      actor,
      null,
      { taskId: task.id, status: task.status, assigneeId: task.assigneeId },
      { tasks: [k.taskProjection(task)] },
    )
    return answer(task)
  }
  const validate = (taskId: string, apply: (task: HumanTask) => HumanTask) => {
    k.assertOpen()
    apply(find(taskId))
  }
  setHandler(
    claimTaskUpdate,
    (c) => taskUpdate('task.claimed', c.actor, claimTask(find(c.taskId), c.actor)),
    { validator: (c) => validate(c.taskId, (t) => claimTask(t, c.actor)) },
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
    options.check?.(task, c.actor)
    const schema = options.forms[task.kind]
    const result = schema ? parseForm(schema, c.data) : {}
    return completeTask(task, c.actor, result, k.now().toISOString())
  }
  setHandler(
    completeTaskUpdate,
    (c) => {
      const task = completion(c)
      k.replaceTask(task)
      const projected = k.taskProjection(task)
      k.emit(
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
      return answer(task)
    },
    {
      validator: (c) => {
        k.assertOpen()
        completion(c)
      },
    },
  )
}

/**
 * What every case kind takes besides tasks: the SLA clock (pause with a reason code, resume, a
 * supervisor's extension), notes (text only in the encrypted history and the live state), links
 * to other cases, withdrawal and a supervisor's administrative close. `closeBy` names who may
 * close or withdraw (a re-verification is stopped by supervisors only).
 */
export function registerCaseHandlers<S extends KernelState>(
  k: Kernel<S>,
  options: {
    /** Roles that may withdraw the case (every staff role when absent). */
    withdrawBy?: Actor['role'][]
    closeBy: Actor['role'][]
  },
) {
  const s = () => k.state()
  const clockCommand = (event: SlaClockEvent) => {
    k.assertOpen()
    const clock = s().clock
    refuseUnless(!!clock?.length, ErrorCode.ACTION_NOT_SUPPORTED, 'this case has no SLA clock')
    const problem = slaEventProblem(clock, event)
    if (problem) throw ApplicationFailure.nonRetryable(`SLA clock: ${problem}`, problem)
  }
  const clockUpdate = async (type: string, actor: Actor, event: SlaClockEvent) => {
    s().clock = [...(s().clock ?? []), event]
    k.emit(type, actor, null, { clock: event.type }, { data: { clock: event } })
    return { ...k.sla()!, projected: await k.rec.answer() }
  }
  const at = () => k.now().toISOString()
  setHandler(
    pauseSlaUpdate,
    (c) => clockUpdate('sla.paused', c.actor, { type: 'paused', at: at(), reason: c.reason }),
    {
      validator: (c) => {
        refuseUnless(
          (PAUSE_REASONS as readonly string[]).includes(c.reason),
          ErrorCode.INVALID_COMMAND,
          'unknown pause reason',
        )
        clockCommand({ type: 'paused', at: at(), reason: c.reason })
      },
    },
  )
  setHandler(
    resumeSlaUpdate,
    (c) => clockUpdate('sla.resumed', c.actor, { type: 'resumed', at: at() }),
    { validator: (_c) => clockCommand({ type: 'resumed', at: at() }) },
  )
  setHandler(
    extendSlaUpdate,
    (c) =>
      clockUpdate('sla.extended', c.actor, {
        type: 'extended',
        at: at(),
        byMs: c.byMs,
        reason: c.reason,
      }),
    {
      validator: (c) => {
        k.assertOpen()
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
        clockCommand({ type: 'extended', at: at(), byMs: c.byMs, reason: c.reason })
      },
    },
  )

  setHandler(
    addNoteUpdate,
    async (c) => {
      const st = s()
      const note = {
        no: (st.notes?.length ?? 0) + 1,
        by: c.actor.userId,
        role: c.actor.role,
        at: at(),
        text: c.text.trim(),
      }
      st.notes = [...(st.notes ?? []), note]
      // The projection records that a note was added, never its text.
      k.emit('case.note_added', c.actor, null, { noteNo: note.no })
      return { ...note, projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
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
      const st = s()
      st.links = [...(st.links ?? []), { toCaseId: c.toCaseId, kind: c.kind }]
      const link = { toCaseId: c.toCaseId, kind: c.kind }
      k.emit('case.linked', c.actor, null, link, { links: [link] })
      return { ...st, projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
        refuseUnless(
          ['related', 'spawned', 'appeal_of'].includes(c.kind) &&
            c.toCaseId !== s().caseId &&
            CASE_ID.test(c.toCaseId ?? ''),
          ErrorCode.INVALID_COMMAND,
          'a link needs another case id and a kind (related, spawned, appeal_of)',
        )
        refuseUnless(
          !(s().links ?? []).some((l) => l.toCaseId === c.toCaseId && l.kind === c.kind),
          ErrorCode.INVALID_COMMAND,
          'this link exists already',
        )
      },
    },
  )

  setHandler(
    withdrawUpdate,
    async (c) => {
      k.close('withdrawn', c.actor)
      return { ...s(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
        refuseUnless(
          !options.withdrawBy || options.withdrawBy.includes(c.actor.role),
          ErrorCode.NOT_ALLOWED,
          'you may not withdraw this case',
        )
      },
    },
  )
  setHandler(
    closeCaseUpdate,
    async (c) => {
      k.close(c.reason, c.actor)
      return { ...s(), projected: await k.rec.answer() }
    },
    {
      validator: (c) => {
        k.assertOpen()
        refuseUnless(
          /^[a-z_]{2,40}$/.test(c.reason ?? ''),
          ErrorCode.INVALID_COMMAND,
          'reason must be a reason code (lowercase letters and underscores)',
        )
        refuseUnless(
          options.closeBy.includes(c.actor.role),
          ErrorCode.NOT_ALLOWED,
          'only a supervisor closes a case',
        )
      },
    },
  )
}
