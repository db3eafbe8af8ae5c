import type { Context } from 'hono'
import { HTTPException } from 'hono/http-exception'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { Logger } from '../activities/infra/logger'

/** The one error shape every endpoint answers with. `code` is stable; `message` is for people. */
export interface ErrorBody {
  error: { code: string; message: string; details?: unknown }
}

export class ApiError extends Error {
  constructor(
    readonly status: ContentfulStatusCode,
    readonly code: string,
    message: string,
    readonly details?: unknown,
  ) {
    super(message)
  }
}

export function errorBody(code: string, message: string, details?: unknown): ErrorBody {
  return { error: { code, message, ...(details === undefined ? {} : { details }) } }
}

/** Node socket errors and PostgreSQL states meaning "the database is not there right now". */
const UNAVAILABLE_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ETIMEDOUT',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
  '57P01', // admin shutdown
  '57P02', // crash shutdown
  '57P03', // cannot connect now (starting up)
])

/** Whether `error` comes from a dependency that is down or unreachable, not from our code. */
export function isOutage(error: unknown): boolean {
  const code = (error as { code?: unknown } | null)?.code
  if (typeof code === 'string' && (UNAVAILABLE_CODES.has(code) || code.startsWith('08'))) {
    return true
  }
  // gRPC UNAVAILABLE / DEADLINE_EXCEEDED from Temporal's client; an Update (or Update-with-Start,
  // how cases open) whose call timed out or was cut is the same outage seen through an Update.
  const name = (error as { name?: unknown } | null)?.name
  return name === 'ServiceError' || name === 'WorkflowUpdateRPCTimeoutOrCancelledError'
}

/** `app.onError`: every failure becomes the JSON shape above; no stack trace leaves the server. */
export function onError(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message, error.details), error.status)
    }
    // An outage is not a bug: tell the client to come back, and nothing was changed.
    if (isOutage(error)) {
      log.warn({ code: (error as { code?: unknown }).code, path: c.req.path }, 'dependency down')
      c.header('Retry-After', '5')
      return c.json(
        errorBody(
          'SERVICE_UNAVAILABLE',
          'Service temporairement indisponible / Temporarily unavailable: retry later',
        ),
        503,
      )
    }
    if (error instanceof HTTPException) {
      const status = error.status
      return c.json(
        errorBody(status === 413 ? 'PAYLOAD_TOO_LARGE' : 'HTTP_ERROR', error.message),
        status,
      )
    }
    log.error({ err: error, path: c.req.path }, 'unhandled API error')
    return c.json(errorBody('INTERNAL', 'Erreur interne du serveur / Internal server error'), 500)
  }
}

export function notFound(c: Context) {
  return c.json(errorBody('NOT_FOUND', `No route ${c.req.method} ${c.req.path}`), 404)
}
