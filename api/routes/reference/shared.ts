import { z } from '@hono/zod-openapi'
import type { MiddlewareHandler } from 'hono'
import type { RoleCode } from '../../../workflows/messages'
import type { AppEnv, AuthUser } from '../../auth/types'
import { ApiError } from '../../errors'
import { errorResponses, IdempotencyHeader, isoDateTime } from '../../openapi'

export { asArray, contains, startsWith } from '../../lists'
export { IdempotencyHeader }
/** OpenAPI responses in the one error shape, for each status. */
export const errors = errorResponses

/** A JSON request body, for `createRoute`. */
export const jsonBody = <T extends z.ZodType>(schema: T) => ({
  required: true,
  content: { 'application/json': { schema } },
})

/** A JSON answer, for `createRoute`. */
export const jsonAnswer = <T extends z.ZodType>(description: string, schema: T) => ({
  description,
  content: { 'application/json': { schema } },
})

/** A path parameter named `name` (react-admin puts the record's `id` there). */
export const pathParam = <N extends string>(name: N, example: string) =>
  z.object({
    [name]: z
      .string()
      .max(100)
      // eslint-disable-next-line no-control-regex
      .regex(/^[^\u0000-\u001f\u007f]+$/)
      .openapi({ param: { name, in: 'path' }, example }),
  } as Record<N, z.ZodString>)

/**
 * Text a person typed: trimmed, not empty, no control characters (PostgreSQL text cannot even
 * hold NUL; a request carrying one is refused here rather than failing in the query).
 */
export const text = (max: number) =>
  z
    .string()
    .trim()
    .min(1)
    .max(max)
    // eslint-disable-next-line no-control-regex
    .regex(/^[^\u0000-\u001f\u007f]*$/, { message: 'no control characters' })

/** A code of reference data given in a body (a service, a category). */
export const knownCode = z.string().regex(/^[A-Za-z0-9_-]{1,40}$/, { message: 'not a known code' })

export const iso = isoDateTime
export const areaCode = z.string().regex(/^[A-Za-z0-9-]{1,40}$/)
export const referenceCode = z.string().regex(/^[a-z][a-z0-9_-]{1,39}$/, {
  message: 'lowercase letters, digits, "_" or "-", 2 to 40, starting with a letter',
})

export const hasRole = (user: AuthUser, ...roles: RoleCode[]) =>
  user.roles.some((r) => roles.includes(r.role))

/** Areas where `user` holds `role`. */
export const areasOf = (user: AuthUser, role: RoleCode) => [
  ...new Set(user.roles.filter((r) => r.role === role).map((r) => r.areaCode)),
]

export const forbidden = () =>
  new ApiError(403, 'FORBIDDEN', 'Your roles do not allow this / Vos rôles ne le permettent pas')

/**
 * Route middleware: a signed-in user holding none of `roles` (in any area) is answered 403
 * `FORBIDDEN`, before the body is even validated.
 */
export function requireRole(...roles: RoleCode[]): MiddlewareHandler<AppEnv> {
  return async (c, next) => {
    if (!hasRole(c.get('user'), ...roles)) throw forbidden()
    await next()
  }
}

/** 422 `INVALID_COMMAND` naming one field, in the shape the validation hook uses. */
export const invalid = (field: string, message: string) =>
  new ApiError(422, 'INVALID_COMMAND', `${field}: ${message}`, [{ path: field, message }])

export const conflict = (message: string) => new ApiError(409, 'CONFLICT', message)

export const notFound = (what: string) => new ApiError(404, 'NOT_FOUND', `${what} not found`)

/**
 * react-admin sends the whole record back on update: an immutable field may come along, but only
 * with its current value.
 */
export function unchanged(field: string, sent: unknown, current: unknown): void {
  if (sent !== undefined && sent !== current) throw invalid(field, 'cannot be changed')
}

/**
 * Runs a write, turning a PostgreSQL unique violation (a concurrent or duplicate insert that the
 * checks before could not see) into 409 `CONFLICT`.
 */
export async function uniquely<T>(message: string, write: () => Promise<T>): Promise<T> {
  try {
    return await write()
  } catch (error) {
    if ((error as { code?: unknown } | null)?.code === '23505') throw conflict(message)
    throw error
  }
}

/** `%text%` for ILIKE with the wildcards of `text` escaped. */

export const toIso = (d: Date | string) => new Date(d).toISOString()
