import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import { createApiToken, revokeApiToken } from '../auth/sessions'
import type { AppEnv } from '../auth/types'
import { ApiError } from '../errors'
import { validationHook } from '../lists'
import { errorResponses } from '../openapi'

/** A token lives 90 days unless asked otherwise, a year at most: a leaked one lapses. */
const DEFAULT_DAYS = 90
const MAX_DAYS = 365
const DAY_MS = 24 * 3600_000

const TokenSchema = z
  .object({
    id: z.string(),
    name: z.string(),
    /** Null for a token of the whole API; `temporal_codec` for a codec token. */
    scope: z.string().nullable(),
    createdAt: z.string(),
    expiresAt: z.string().nullable(),
    revokedAt: z.string().nullable(),
    /** Neither revoked nor expired. */
    active: z.boolean(),
  })
  .openapi('ApiToken')

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['auth'],
  summary: 'Your bearer tokens (never their secret), newest first',
  responses: {
    200: {
      description: 'Tokens',
      content: { 'application/json': { schema: z.array(TokenSchema) } },
    },
    ...errorResponses(401),
  },
})

const createTokenRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['auth'],
  summary: 'Issue a bearer token for a system acting as you, with an expiry (shown once)',
  request: {
    body: {
      required: true,
      content: {
        'application/json': {
          schema: z.object({
            name: z.string().trim().min(3).max(100),
            expiresInDays: z.number().int().min(1).max(MAX_DAYS).default(DEFAULT_DAYS),
          }),
        },
      },
    },
  },
  responses: {
    201: {
      description: 'The token, this once',
      content: {
        'application/json': {
          schema: z.object({ id: z.string(), token: z.string(), expiresAt: z.string() }),
        },
      },
    },
    ...errorResponses(401, 403, 422),
  },
})

const revokeRoute = createRoute({
  method: 'delete',
  path: '/{id}',
  tags: ['auth'],
  summary: 'Revoke one of your tokens: it stops working at the next request',
  request: {
    params: z.object({
      id: z.uuid().openapi({ param: { name: 'id', in: 'path' } }),
    }),
  },
  responses: { 204: { description: 'Revoked' }, ...errorResponses(400, 401, 404) },
})

/**
 * Bearer tokens (issue 15 item 12): a signed-in person lists, issues (with an expiry, a year at
 * most) and revokes the tokens of their own account — a partner's or the registry's system
 * account; a token cannot issue another. Issue and revocation are `user_audit` events; changing
 * the password revokes them all (api/routes/auth.ts).
 */
export function tokenRoutes(deps: { db: Db }) {
  const { db } = deps
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const user = c.get('user')
      const rows = await db
        .selectFrom('apiTokens')
        .select(['id', 'name', 'scope', 'createdAt', 'expiresAt', 'revokedAt'])
        .where('userId', '=', user.id)
        .orderBy('createdAt', 'desc')
        .orderBy('id', 'desc')
        .limit(500)
        .execute()
      const now = Date.now()
      return c.json(
        rows.map((r) => ({
          id: String(r.id),
          name: r.name,
          scope: r.scope,
          createdAt: new Date(r.createdAt).toISOString(),
          expiresAt: r.expiresAt ? new Date(r.expiresAt).toISOString() : null,
          revokedAt: r.revokedAt ? new Date(r.revokedAt).toISOString() : null,
          active: !r.revokedAt && (!r.expiresAt || new Date(r.expiresAt).getTime() > now),
        })),
        200,
      )
    })
    .openapi(createTokenRoute, async (c) => {
      const user = c.get('user')
      // A stolen token must not mint the thief a longer-lived one.
      if (user.via === 'token') {
        throw new ApiError(403, 'SESSION_REQUIRED', 'Tokens are issued from a signed-in session')
      }
      const { name, expiresInDays } = c.req.valid('json')
      const expiresAt = new Date(Date.now() + expiresInDays * DAY_MS)
      const { id, token } = await createApiToken(db, {
        name,
        userId: user.id,
        actorUserId: user.id,
        expiresAt,
      })
      return c.json({ id: String(id), token, expiresAt: expiresAt.toISOString() }, 201)
    })
    .openapi(revokeRoute, async (c) => {
      const user = c.get('user')
      const { id } = c.req.valid('param')
      const own = await db
        .selectFrom('apiTokens')
        .select('id')
        .where('id', '=', id)
        .where('userId', '=', user.id)
        .executeTakeFirst()
      // Another's token answers like a missing one.
      if (!own) throw new ApiError(404, 'NOT_FOUND', 'Token not found')
      await revokeApiToken(db, id, new Date(), user.id)
      return c.body(null, 204)
    })
}
