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

/** `app.onError`: every failure becomes the JSON shape above; no stack trace leaves the server. */
export function onError(log: Logger) {
  return (error: Error, c: Context) => {
    if (error instanceof ApiError) {
      return c.json(errorBody(error.code, error.message, error.details), error.status)
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
