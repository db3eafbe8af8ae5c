import { ApplicationFailure } from '@temporalio/common'
import { describe, expect, it } from 'vitest'
import {
  claimTask,
  completeTask,
  reassignTask,
  unclaimTask,
  type HumanTask,
} from '../../workflows/kernel/tasks'
import { ErrorCode, type Actor } from '../../workflows/messages'

const A = '00000000-0000-4000-8000-00000000000a'
const B = '00000000-0000-4000-8000-00000000000b'
const C = '00000000-0000-4000-8000-00000000000c'
const D = '00000000-0000-4000-8000-00000000000d'
const worker = (userId: string): Actor => ({ userId, role: 'case_worker' })
const supervisor = (userId: string): Actor => ({ userId, role: 'supervisor' })
const now = '2026-11-02T09:00:00.000Z'

const task = (overrides: Partial<HumanTask> = {}): HumanTask => ({
  id: 'G-1-T1',
  kind: 'investigation',
  status: 'open',
  candidateRole: 'case_worker',
  areaCode: 'ML-2-KATI-KATI',
  assigneeId: null,
  requiresClearance: false,
  createdAt: now,
  dueAt: null,
  ...overrides,
})

function code(attempt: () => unknown): string | undefined {
  try {
    attempt()
  } catch (error) {
    expect(error).toBeInstanceOf(ApplicationFailure)
    expect((error as ApplicationFailure).nonRetryable).toBe(true)
    return (error as ApplicationFailure).type ?? undefined
  }
  return undefined
}

describe('human tasks (pure)', () => {
  it('are claimed, released and claimed by someone else', () => {
    const claimed = claimTask(task(), worker(A))
    expect(claimed).toMatchObject({ status: 'claimed', assigneeId: A })
    expect(code(() => claimTask(claimed, worker(B)))).toBe(ErrorCode.TASK_ALREADY_CLAIMED)
    expect(code(() => unclaimTask(claimed, worker(B)))).toBe(ErrorCode.TASK_ASSIGNED_TO_OTHER)
    const released = unclaimTask(claimed, worker(A))
    expect(released).toMatchObject({ status: 'open', assigneeId: null })
    expect(claimTask(released, worker(B)).assigneeId).toBe(B)
  })

  it('are reassigned by a supervisor only', () => {
    const claimed = claimTask(task(), worker(A))
    expect(code(() => reassignTask(claimed, worker(A), B))).toBe(ErrorCode.NOT_ALLOWED)
    expect(reassignTask(claimed, supervisor(C), B).assigneeId).toBe(B)
  })

  it('are completed once, by their assignee or a supervisor, never by another role', () => {
    const claimed = claimTask(task(), worker(A))
    expect(code(() => completeTask(claimed, worker(B), {}, now))).toBe(
      ErrorCode.TASK_ASSIGNED_TO_OTHER,
    )
    expect(code(() => completeTask(claimed, { userId: B, role: 'partner' }, {}, now))).toBe(
      ErrorCode.NOT_ALLOWED,
    )
    const done = completeTask(claimed, worker(A), { ok: true }, now)
    expect(done).toMatchObject({ status: 'completed', completedBy: A, result: { ok: true } })
    expect(code(() => completeTask(done, worker(A), {}, now))).toBe(
      ErrorCode.TASK_ALREADY_COMPLETED,
    )
    expect(completeTask(claimed, supervisor(C), {}, now).completedBy).toBe(C)
  })

  it('reserve sensitive tasks to focal points', () => {
    const sensitive = task({ requiresClearance: true })
    expect(code(() => claimTask(sensitive, worker(A)))).toBe(ErrorCode.NOT_ALLOWED)
    expect(claimTask(sensitive, { ...worker(A), clearance: true }).assigneeId).toBe(A)
  })
})

describe('approvals (pure)', () => {
  const approval = (required: number) =>
    task({
      kind: 'approval',
      candidateRole: 'supervisor',
      approval: { required, proposerId: A, decisions: [] },
    })

  it('never lets the proposer decide (four eyes)', () => {
    expect(code(() => completeTask(approval(1), supervisor(A), { decision: 'approve' }, now))).toBe(
      ErrorCode.FOUR_EYES,
    )
  })

  it('completes a single approval with the first decision', () => {
    expect(completeTask(approval(1), supervisor(B), { decision: 'approve' }, now)).toMatchObject({
      status: 'completed',
      result: { decision: 'approve' },
    })
  })

  it('needs N of M: waits for the second approver, refuses a second vote by the same person', () => {
    const one = completeTask(approval(2), supervisor(B), { decision: 'approve' }, now)
    expect(one.status).toBe('open')
    expect(code(() => completeTask(one, supervisor(B), { decision: 'approve' }, now))).toBe(
      ErrorCode.ALREADY_DECIDED,
    )
    const two = completeTask(one, supervisor(C), { decision: 'approve' }, now)
    expect(two).toMatchObject({ status: 'completed', result: { decision: 'approve' } })
    expect(two.approval!.decisions.map((d) => d.userId)).toEqual([B, C])
  })

  it('is rejected at once by one rejection, with its reason', () => {
    const one = completeTask(approval(3), supervisor(B), { decision: 'approve' }, now)
    const rejected = completeTask(
      one,
      supervisor(D),
      { decision: 'reject', reason: 'Preuve manquante' },
      now,
    )
    expect(rejected).toMatchObject({
      status: 'completed',
      result: { decision: 'reject', reason: 'Preuve manquante' },
    })
  })
})
