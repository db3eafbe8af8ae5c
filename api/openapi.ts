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

/**
 * `GET /`: a page of `resource` with the react-admin list conventions (`sort`, `range`, `filter`
 * in `query`; the total in `Content-Range: <resource> <first>-<last>/<total>`).
 */
export function listRouteFor<Q extends z.ZodObject, S extends z.ZodType>(
  resource: string,
  summary: string,
  query: Q,
  item: S,
) {
  return createRoute({
    method: 'get',
    path: '/',
    tags: [resource],
    summary,
    request: { query },
    responses: {
      200: {
        description: `A page of ${resource}; \`Content-Range: ${resource} <first>-<last>/<total>\``,
        content: { 'application/json': { schema: z.array(item) } },
      },
      ...errorResponses(400, 401),
    },
  })
}

/** `GET /{id}` (or the path of another key): one record of `resource`, 404 when out of sight. */
export function getRouteFor<
  P extends z.ZodObject,
  S extends z.ZodType,
  Path extends string = '/{id}',
>(resource: string, summary: string, params: P, item: S, description: string, path?: Path) {
  return createRoute({
    method: 'get',
    path: (path ?? '/{id}') as Path,
    tags: [resource],
    summary,
    request: { params },
    responses: {
      200: { description, content: { 'application/json': { schema: item } } },
      ...errorResponses(401, 404),
    },
  })
}
