import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import { audit } from '../access'
import type { AppEnv } from '../auth/types'
import { ApiError } from '../errors'
import { parseListQuery, setContentRange, validationHook, type ListSpec } from '../lists'
import { errorResponses } from '../openapi'

/** How long a break-glass access lasts: long enough for an emergency, short enough to lapse. */
const GRANT_MS = 4 * 3600_000
/** Roles designated to break the glass (never case workers, administrators or partners). */
const DESIGNATED = new Set(['supervisor', 'programme_manager'])
/** Roles that read the break-glass report. */
const REPORT_READERS = new Set(['programme_manager', 'administrator'])

const errors = errorResponses

const GrantSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    userId: z.string(),
    username: z.string(),
    reason: z.string(),
    grantedAt: z.string(),
    expiresAt: z.string(),
  })
  .openapi('BreakGlassGrant')

const breakRoute = createRoute({
  method: 'post',
  path: '/cases/{id}/break-glass',
  tags: ['cases'],
  summary: 'Open a case outside your scope, or a sensitive one, for 4 hours, with a written reason',
  description:
    'For supervisors and programme managers in an emergency. Every grant is kept, audited and ' +
    'reported to programme managers and administrators (GET /reports/break-glass).',
  request: {
    params: z.object({ id: z.string().openapi({ param: { name: 'id', in: 'path' } }) }),
    body: {
      required: true,
      content: {
        'application/json': { schema: z.object({ reason: z.string().trim().min(15).max(1000) }) },
      },
    },
  },
  responses: {
    201: {
      description: 'Granted until expiresAt',
      content: {
        'application/json': {
          schema: z.object({ caseId: z.string(), expiresAt: z.string() }),
        },
      },
    },
    ...errors(401, 403, 404, 422),
  },
})

const reportRoute = createRoute({
  method: 'get',
  path: '/reports/break-glass',
  tags: ['reports'],
  summary: 'Every break-glass access, newest first',
  request: {
    query: z.object({
      sort: z.string().optional(),
      range: z.string().optional(),
      filter: z.string().optional(),
    }),
  },
  responses: {
    200: {
      description: 'Grants',
      content: { 'application/json': { schema: z.array(GrantSchema) } },
    },
    ...errors(400, 401, 403),
  },
})

const grantList = {
  resource: 'break-glass',
  sortable: ['grantedAt', 'expiresAt'],
  defaultSort: { field: 'grantedAt', order: 'DESC' },
  filters: { caseId: z.string().max(100), userId: z.uuid() },
} satisfies ListSpec<z.ZodRawShape>

/**
 * Break-glass (DESIGN §5): a designated person opens one case outside their scope for a limited
 * time with a written reason; the access rule (`api/access.ts`) honours the grant, every grant is
 * append-only and audited, and the report lists them all for those who oversee access.
 */
export function breakGlassRoutes(deps: { db: Db }) {
  const db = deps.db
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(breakRoute, async (c) => {
      const user = c.get('user')
      const role = user.roles.find((r) => DESIGNATED.has(r.role))?.role
      if (!role) throw new ApiError(403, 'NOT_ALLOWED', 'Your role may not break the glass')
      const { id } = c.req.valid('param')
      const exists = await db
        .selectFrom('cases')
        .select('id')
        .where('id', '=', id)
        .executeTakeFirst()
      if (!exists) throw new ApiError(404, 'NOT_FOUND', 'Case not found')
      const expiresAt = new Date(Date.now() + GRANT_MS)
      await db
        .insertInto('breakGlassGrants')
        .values({ userId: user.id, caseId: id, reason: c.req.valid('json').reason, expiresAt })
        .execute()
      await audit(deps.db, [{ userId: user.id, action: 'break_glass', caseId: id, role }])
      return c.json({ caseId: id, expiresAt: expiresAt.toISOString() }, 201)
    })
    .openapi(reportRoute, async (c) => {
      const user = c.get('user')
      if (!user.roles.some((r) => REPORT_READERS.has(r.role))) {
        throw new ApiError(403, 'FORBIDDEN', 'Only programme managers and administrators')
      }
      const { sort, offset, limit, filter } = parseListQuery(grantList, c.req.query())
      let query = db.selectFrom('breakGlassGrants as g').innerJoin('users as u', 'u.id', 'g.userId')
      if (filter.caseId !== undefined) query = query.where('g.caseId', '=', filter.caseId)
      if (filter.userId !== undefined) query = query.where('g.userId', '=', filter.userId)
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select([
          'g.id',
          'g.caseId',
          'g.userId',
          'u.username',
          'g.reason',
          'g.grantedAt',
          'g.expiresAt',
        ])
        .orderBy(
          sort.field === 'expiresAt' ? 'g.expiresAt' : 'g.grantedAt',
          sort.order === 'ASC' ? 'asc' : 'desc',
        )
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'break-glass', offset, rows.length, Number(total))
      return c.json(
        rows.map((r) => ({
          ...r,
          id: String(r.id),
          grantedAt: r.grantedAt.toISOString(),
          expiresAt: r.expiresAt.toISOString(),
        })),
        200,
      )
    })
}
