import {
  ServiceError,
  WorkflowNotFoundError,
  WorkflowUpdateFailedError,
  WorkflowUpdateRPCTimeoutOrCancelledError,
} from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import { ErrorCode } from '../workflows/messages'
import { CommandRefused } from './commands/reopen'
import { ApiError } from './errors'

/**
 * The one mapping from a workflow's refusal (a stable `ErrorCode`) to HTTP, so that every route
 * answers a refused command the same way: not found → 404, a conflict with the case's state →
 * 409, a permission rule of the workflow → 403, an invalid form or command → 422 with details.
 */
export const refusalStatus: Record<ErrorCode, ContentfulStatusCode> = {
  TASK_NOT_FOUND: 404,
  CASE_NOT_FOUND: 404,
  TASK_ALREADY_COMPLETED: 409,
  TASK_ALREADY_CLAIMED: 409,
  TASK_ASSIGNED_TO_OTHER: 409,
  TASK_CANCELLED: 409,
  CASE_CLOSED: 409,
  CASE_NOT_CLOSED: 409,
  ALREADY_DECIDED: 409,
  WRONG_STAGE: 409,
  SLA_ALREADY_PAUSED: 409,
  SLA_NOT_PAUSED: 409,
  SLA_STOPPED: 409,
  SLA_INVALID_EXTENSION: 409,
  NOT_ALLOWED: 403,
  FOUR_EYES: 403,
  INVALID_FORM: 422,
  INVALID_COMMAND: 422,
  REFERRAL_NOT_ROUTED_TO_YOU: 403,
  REVIEWER_NOT_INDEPENDENT: 403,
  APPEAL_WINDOW_CLOSED: 422,
  CONSENT_REQUIRED: 422,
  CONSENT_OVERRIDE_NOT_ALLOWED: 403,
  ACTION_NOT_SUPPORTED: 409,
  // The API's own command refused: its command key differs from the workers' (misconfiguration).
  COMMAND_NOT_AUTHENTICATED: 500,
}

const isErrorCode = (type: unknown): type is ErrorCode =>
  typeof type === 'string' && Object.hasOwn(refusalStatus, type)

/** An `ApiError` for a refusal code, with the workflow's details (e.g. the form's field errors). */
export function refusal(code: ErrorCode, message: string, details?: unknown): ApiError {
  return new ApiError(refusalStatus[code], code, message, details)
}

/**
 * Turns what a Temporal call threw into an `ApiError` when it is a known outcome: a refused
 * Update (its `ApplicationFailure` type is an `ErrorCode`), a workflow that has ended (409
 * `CASE_CLOSED`: no command reaches a finished case), a refused `CommandRefused`, or Temporal
 * being unreachable (503). Anything else is returned as is, for `onError` to log as a 500.
 */
export function fromTemporalError(error: unknown): unknown {
  if (error instanceof ApiError) return error
  if (error instanceof CommandRefused) return refusal(error.code, error.message)
  if (error instanceof WorkflowUpdateFailedError) {
    const cause = error.cause
    if (cause instanceof ApplicationFailure && isErrorCode(cause.type)) {
      const details = cause.details?.[0] ?? undefined
      return refusal(cause.type, cause.message, details ?? undefined)
    }
    // The SDK's own refusal of an Update the workflow has no handler for: this case kind does
    // not take that command (e.g. pausing a referral's SLA through the grievance route).
    if (
      cause instanceof ApplicationFailure &&
      /^No registered handler for update/.test(cause.message)
    )
      return refusal(ErrorCode.ACTION_NOT_SUPPORTED, 'This kind of case does not take that command')
    return error
  }
  if (error instanceof WorkflowNotFoundError) {
    return new ApiError(409, ErrorCode.CASE_CLOSED, 'The case is no longer running')
  }
  if (error instanceof WorkflowUpdateRPCTimeoutOrCancelledError || error instanceof ServiceError) {
    return new ApiError(503, 'TEMPORAL_UNAVAILABLE', 'The case engine did not answer; retry later')
  }
  return error
}

/** Runs a Temporal call, rethrowing known outcomes as `ApiError`s. */
export async function temporalCall<T>(call: () => Promise<T>): Promise<T> {
  try {
    return await call()
  } catch (error) {
    throw fromTemporalError(error)
  }
}
