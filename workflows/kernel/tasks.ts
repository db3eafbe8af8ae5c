import { ApplicationFailure } from '@temporalio/workflow'
import type { ZodType } from 'zod'
import { ErrorCode, type Actor, type RoleCode } from '../messages'

/**
 * Human tasks: a unit of work for a person or a role in an area. Pure functions: each validates a
 * command against the task and returns the changed task; a refusal is a non-retryable
 * ApplicationFailure whose type is a stable ErrorCode, so the Update is rejected and the history
 * records nothing.
 */

export type TaskStatus = 'open' | 'claimed' | 'completed' | 'cancelled'

export interface ApprovalRule {
  /** Approvals needed (1 = single approver; N of M when several candidates may decide). */
  required: number
  /** The person whose proposal is being approved: never allowed to decide it (four eyes). */
  proposerId: string | null
  decisions: { userId: string; decision: 'approve' | 'reject'; reason?: string; at: string }[]
}

export interface HumanTask {
  id: string
  kind: string
  status: TaskStatus
  candidateRole: RoleCode
  areaCode: string
  assigneeId: string | null
  /** Only designated focal points may hold it (sensitive cases). */
  requiresClearance: boolean
  createdAt: string
  dueAt: string | null
  escalationLevel?: number
  approval?: ApprovalRule
  /** Why a task was sent back, shown to the person who redoes it. */
  sentBackReason?: string
  result?: Record<string, unknown>
  completedBy?: string
  completedAt?: string
}

function refuse(code: ErrorCode, message: string, details?: unknown): never {
  throw ApplicationFailure.create({ message, type: code, nonRetryable: true, details: [details] })
}

export function findTask(tasks: HumanTask[], taskId: string): HumanTask {
  const task = tasks.find((t) => t.id === taskId)
  if (!task) refuse(ErrorCode.TASK_NOT_FOUND, `no task ${taskId} in this case`)
  return task
}

function assertActive(task: HumanTask): void {
  if (task.status === 'completed') {
    refuse(ErrorCode.TASK_ALREADY_COMPLETED, `task ${task.id} is already completed`)
  }
  if (task.status === 'cancelled') refuse(ErrorCode.TASK_CANCELLED, `task ${task.id} was cancelled`)
}

/** Supervisors may act on any task of their scope (override); others need the task's role. */
function assertEligible(task: HumanTask, actor: Actor): void {
  if (!actor.userId) refuse(ErrorCode.NOT_ALLOWED, 'a task is handled by a signed-in person')
  if (task.requiresClearance && !actor.clearance) {
    refuse(ErrorCode.NOT_ALLOWED, 'this task is reserved to designated focal points')
  }
  if (actor.role !== task.candidateRole && actor.role !== 'supervisor') {
    refuse(ErrorCode.NOT_ALLOWED, `task ${task.id} is for the role ${task.candidateRole}`)
  }
}

export function claimTask(task: HumanTask, actor: Actor): HumanTask {
  assertActive(task)
  assertEligible(task, actor)
  if (task.assigneeId && task.assigneeId !== actor.userId) {
    refuse(ErrorCode.TASK_ALREADY_CLAIMED, `task ${task.id} is already assigned to someone else`)
  }
  return { ...task, status: 'claimed', assigneeId: actor.userId }
}

export function unclaimTask(task: HumanTask, actor: Actor): HumanTask {
  assertActive(task)
  if (task.assigneeId !== actor.userId && actor.role !== 'supervisor') {
    refuse(ErrorCode.TASK_ASSIGNED_TO_OTHER, `task ${task.id} is not yours to release`)
  }
  return { ...task, status: 'open', assigneeId: null }
}

/** Manual override: only a supervisor reassigns. */
export function reassignTask(task: HumanTask, actor: Actor, assigneeId: string): HumanTask {
  assertActive(task)
  if (actor.role !== 'supervisor') refuse(ErrorCode.NOT_ALLOWED, 'only a supervisor reassigns')
  if (!/^[0-9a-f-]{36}$/.test(assigneeId))
    refuse(ErrorCode.INVALID_COMMAND, 'assigneeId is a user id')
  return { ...task, status: 'claimed', assigneeId }
}

/** Parses form data with the task kind's schema; refuses with the field errors. */
export function parseForm<T>(schema: ZodType<T>, data: unknown): T {
  const parsed = schema.safeParse(data)
  if (!parsed.success) {
    refuse(
      ErrorCode.INVALID_FORM,
      'the form has invalid fields',
      parsed.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
    )
  }
  return parsed.data
}

/**
 * Completes a task with validated form data. Someone else's claimed task is refused (a supervisor
 * may override). For an approval task, records one decision: the proposer can never decide
 * (four eyes), nobody decides twice, a rejection completes it at once, and it completes as
 * approved when `required` approvals are in.
 */
export function completeTask(
  task: HumanTask,
  actor: Actor,
  result: Record<string, unknown>,
  now: string,
): HumanTask {
  assertActive(task)
  assertEligible(task, actor)
  if (task.assigneeId && task.assigneeId !== actor.userId && actor.role !== 'supervisor') {
    refuse(ErrorCode.TASK_ASSIGNED_TO_OTHER, `task ${task.id} is assigned to someone else`)
  }
  const userId = actor.userId!
  if (!task.approval) {
    return { ...task, status: 'completed', result, completedBy: userId, completedAt: now }
  }
  const rule = task.approval
  // Four eyes: the decider is never the person who proposed.
  if (rule.proposerId && rule.proposerId === userId) {
    refuse(ErrorCode.FOUR_EYES, 'you cannot approve your own proposal')
  }
  if (rule.decisions.some((d) => d.userId === userId)) {
    refuse(ErrorCode.ALREADY_DECIDED, 'you have already decided on this approval')
  }
  const decision = result.decision === 'reject' ? 'reject' : 'approve'
  const reason = typeof result.reason === 'string' ? result.reason : undefined
  const decisions = [...rule.decisions, { userId, decision, reason, at: now } as const]
  const approvals = decisions.filter((d) => d.decision === 'approve').length
  const done = decision === 'reject' || approvals >= rule.required
  return {
    ...task,
    approval: { ...rule, decisions },
    ...(done
      ? {
          status: 'completed' as const,
          result: { decision: decision === 'reject' ? 'reject' : 'approve', reason },
          completedBy: userId,
          completedAt: now,
        }
      : {}),
  }
}

export function cancelTask(task: HumanTask): HumanTask {
  return task.status === 'completed' || task.status === 'cancelled'
    ? task
    : { ...task, status: 'cancelled' }
}

export function isOpen(task: HumanTask): boolean {
  return task.status === 'open' || task.status === 'claimed'
}
