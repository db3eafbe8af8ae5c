import type { MiddlewareHandler } from 'hono'

/** How long a request may wait for PostgreSQL or Temporal before the client is told to retry. */
export const REQUEST_DEADLINE_MS = 15_000

/**
 * How long a workflow start may keep retrying an unreachable Temporal: shorter than the request
 * deadline, so that a client told 503 (and who will retry) never sees its first attempt's case
 * open later as well.
 */
export const START_DEADLINE_MS = 10_000

/** Runs a workflow start (or any Temporal call) that must give up before the request deadline. */
export function startWithin<T>(
  temporal: { connection: { withDeadline<R>(deadline: number, fn: () => Promise<R>): Promise<R> } },
  fn: () => Promise<T>,
): Promise<T> {
  return temporal.connection.withDeadline(Date.now() + START_DEADLINE_MS, fn)
}

/** A dependency that did not answer in time: `isOutage` turns it into 503 with Retry-After. */
export class DeadlineExceeded extends Error {
  readonly code = 'ETIMEDOUT'
  constructor(ms: number) {
    super(`no answer from a dependency within ${ms} ms`)
  }
}

/**
 * During an outage the API answers 503 with a retry hint, never hangs: a dependency that stops
 * answering (a hung PostgreSQL connection, Temporal's client retrying an unreachable server)
 * would otherwise hold the request open for minutes. The work already started is not undone; the
 * writes it may still complete are idempotent.
 */
export function deadline(ms = REQUEST_DEADLINE_MS): MiddlewareHandler {
  return async (_c, next) => {
    let timer: NodeJS.Timeout | undefined
    const expired = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new DeadlineExceeded(ms)), ms)
    })
    try {
      await Promise.race([next(), expired])
    } finally {
      clearTimeout(timer)
    }
  }
}
