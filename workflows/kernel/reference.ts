import { ApplicationFailure, proxyLocalActivities } from '@temporalio/workflow'
import type { CaseActivities } from '../../activities'
import { ErrorCode } from '../messages'

/**
 * Reads and small writes of PostgreSQL that the kernel and the kinds make (reference data at
 * opening, the assignee by workload, a score): local activities, inside the workflow task that
 * needs them, retried without end with a capped backoff (an outage delays the case, never loses
 * it).
 */
export const local = proxyLocalActivities<CaseActivities>({
  startToCloseTimeout: '10 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/** The case's state once opened: commands that arrive while it opens are refused, not lost. */
export function stateHolder<S>(initial: S | undefined) {
  let state = initial
  return {
    current: (): S => {
      if (state === undefined)
        throw ApplicationFailure.nonRetryable(
          'the case is still opening',
          ErrorCode.INVALID_COMMAND,
        )
      return state
    },
    set: (next: S) => {
      state = next
    },
    opened: () => state !== undefined,
  }
}
