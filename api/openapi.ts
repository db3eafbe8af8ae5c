import { createRoute, z } from '@hono/zod-openapi'

/** Pieces of the OpenAPI contract shared by every router. */

/** The one error shape of the API (api/errors.ts), as a named component. */
export const ErrorSchema = z
  .object({
    error: z.object({ code: z.string(), message: z.string(), details: z.unknown().optional() }),
  })
  .openapi('Error')

/** Error responses for the given statuses, all in the one shape. */
export const errorResponses = (...statuses: number[]) =>
  Object.fromEntries(
    statuses.map((s) => [
      s,
      { description: 'Error', content: { 'application/json': { schema: ErrorSchema } } },
    ]),
  )

export const isoDateTime = z.string().openapi({ format: 'date-time' })

/** `Idempotency-Key` on writes (api/idempotency.ts). */
export const IdempotencyHeader = z.object({
  'idempotency-key': z
    .string()
    .optional()
    .openapi({ description: 'Repeating a write with the same key returns the first answer' }),
})

/** The `{id}` path parameter. */
export const idParam = (example: string) =>
  z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' }, example }) })

/**
 * Route definitions of commands on one record (`POST /{id}/<path>`): the id, an
 * `Idempotency-Key`, a JSON body, and the answer once the workflow accepted and projected it.
 */
export function commandRoutes<P extends z.ZodObject, R extends z.ZodType>(
  tag: string,
  params: P,
  result: R,
) {
  return <B extends z.ZodType>(path: string, summary: string, body: B) =>
    createRoute({
      method: 'post',
      path: `/{id}/${path}`,
      tags: [tag],
      summary,
      request: {
        params,
        headers: IdempotencyHeader,
        body: { required: true, content: { 'application/json': { schema: body } } },
      },
      responses: {
        200: {
          description: 'Accepted by the workflow and projected',
          content: { 'application/json': { schema: result } },
        },
        ...errorResponses(400, 401, 403, 404, 409, 422, 503),
      },
    })
}
