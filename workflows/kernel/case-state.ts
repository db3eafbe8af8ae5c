import { ApplicationFailure } from '@temporalio/workflow'
import {
  ErrorCode,
  type CaseEvent,
  type CaseSnapshot,
  type CloseCaseCommand,
  type OpenCaseInput,
} from '../messages'

/** Pure transitions of the case record shared by every case kind: `(state, command) => event`. */

export function openCase(
  input: OpenCaseInput,
  workflowId: string,
  now: Date,
): { state: CaseSnapshot; event: CaseEvent } {
  const state: CaseSnapshot = {
    caseId: input.caseId,
    kind: input.kind,
    status: 'open',
    stage: 'uptake',
    areaCode: input.areaCode,
    category: input.category,
    channel: input.channel,
    priority: input.priority,
    sensitive: input.sensitive,
    openedAt: now.toISOString(),
    seq: 1,
  }
  return {
    state,
    event: {
      workflowId,
      caseId: input.caseId,
      seq: 1,
      type: 'case.opened',
      actor: input.openedBy,
      occurredAt: state.openedAt,
      before: null,
      after: { status: 'open', stage: state.stage },
      snapshot: state,
    },
  }
}

/** Refuses a close that cannot apply, with a typed code the API maps to a 409 or 422. */
export function validateClose(state: CaseSnapshot, command: CloseCaseCommand): void {
  if (state.status === 'closed') {
    throw ApplicationFailure.nonRetryable(
      `case ${state.caseId} is already closed`,
      ErrorCode.CASE_CLOSED,
    )
  }
  if (!/^[a-z_]{2,40}$/.test(command.reason ?? '')) {
    throw ApplicationFailure.nonRetryable(
      'reason must be a reason code (lowercase letters and underscores)',
      ErrorCode.INVALID_COMMAND,
    )
  }
}

export function closeCase(
  state: CaseSnapshot,
  command: CloseCaseCommand,
  workflowId: string,
  now: Date,
): { state: CaseSnapshot; event: CaseEvent } {
  validateClose(state, command)
  const next: CaseSnapshot = {
    ...state,
    status: 'closed',
    stage: 'closed',
    closedAt: now.toISOString(),
    closeReason: command.reason,
    seq: state.seq + 1,
  }
  return {
    state: next,
    event: {
      workflowId,
      caseId: state.caseId,
      seq: next.seq,
      type: 'case.closed',
      actor: command.actor,
      occurredAt: next.closedAt!,
      before: { status: state.status, stage: state.stage },
      after: { status: next.status, stage: next.stage, closeReason: command.reason },
      snapshot: next,
    },
  }
}
