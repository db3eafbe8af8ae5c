import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { sql } from 'kysely'
import type { FieldCipher } from '../../activities/crypto/field-cipher'
import type { Db } from '../../activities/db/db'
import { queueNotifications } from '../../activities/notifications/outbox'
import { areasWithin, audit, within } from '../access'
import type { AppEnv, AuthUser } from '../auth/types'
import { deny } from '../cases/service'
import { ApiError } from '../errors'
import type { RoleCode } from '../../workflows/messages'
import { parseListQuery, setContentRange, validationHook, type ListSpec } from '../lists'
import { errorResponses } from '../openapi'

/** How long a break-glass access lasts: long enough for an emergency, short enough to lapse. */
const GRANT_MS = 4 * 3600_000
/** Roles designated to break the glass (never case workers, administrators or partners). */
const DESIGNATED = new Set<RoleCode>(['supervisor', 'programme_manager'])
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
    /** Who approved it, for a sensitive case opened without clearance. */
    approvedBy: z.string().nullable(),
  })
  .openapi('BreakGlassGrant')

const GrantAnswer = z
  .object({ caseId: z.string(), expiresAt: z.string() })
  .openapi('BreakGlassGrantAnswer')

const RequestSchema = z
  .object({
    id: z.string(),
    caseId: z.string(),
    userId: z.string(),
    username: z.string(),
    reason: z.string(),
    status: z.enum(['pending', 'approved', 'rejected']),
    requestedAt: z.string(),
    decidedBy: z.string().nullable(),
    decidedAt: z.string().nullable(),
  })
  .openapi('BreakGlassRequest')

const breakRoute = createRoute({
  method: 'post',
  path: '/cases/{id}/break-glass',
  tags: ['cases'],
  summary: 'Open a case of your areas (a sensitive one too) for 4 hours, with a written reason',
  description:
    'For supervisors and programme managers in an emergency, on cases within the areas where ' +
    'they hold that role: any other id answers exactly like a missing case (audited). A ' +
    'sensitive case needs clearance, or else the request (202) waits for another supervisor ' +
    'or manager with clearance in the area (POST /break-glass-requests/{id}/approve). One ' +
    'running grant per person and case. Every grant is kept, audited, reported to the focal ' +
    'points of the area (email) and to programme managers and administrators ' +
    '(GET /reports/break-glass).',
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
      content: { 'application/json': { schema: GrantAnswer } },
    },
    200: {
      description: 'Already granted: the running grant (one per person and case)',
      content: { 'application/json': { schema: GrantAnswer } },
    },
    202: {
      description:
        'A sensitive case and no clearance: a request waiting for a second person with clearance',
      content: { 'application/json': { schema: RequestSchema } },
    },
    ...errors(401, 403, 404, 422),
  },
})

const requestsRoute = createRoute({
  method: 'get',
  path: '/break-glass-requests',
  tags: ['cases'],
  summary: 'Break-glass requests waiting for you (a designated person with clearance in the area)',
  responses: {
    200: {
      description: 'Pending requests, oldest first',
      content: { 'application/json': { schema: z.array(RequestSchema) } },
    },
    ...errors(401, 403),
  },
})

const decideRoute = (decision: 'approve' | 'reject') =>
  createRoute({
    method: 'post',
    path: `/break-glass-requests/{id}/${decision}`,
    tags: ['cases'],
    summary:
      decision === 'approve'
        ? 'Approve a break-glass request of someone else: it becomes a 4-hour grant'
        : 'Reject a break-glass request of someone else',
    request: {
      params: z.object({
        id: z
          .string()
          .regex(/^[0-9]{1,18}$/)
          .openapi({ param: { name: 'id', in: 'path' } }),
      }),
    },
    responses: {
      200: {
        description: 'Decided',
        content: { 'application/json': { schema: RequestSchema } },
      },
      ...errors(400, 401, 403, 404, 409),
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

type RequestRow = {
  id: string
  caseId: string
  userId: string
  username: string
  reason: string
  status: 'pending' | 'approved' | 'rejected'
  requestedAt: Date
  decidedBy: string | null
  decidedAt: Date | null
}
const requestDto = (r: RequestRow) => ({
  ...r,
  id: String(r.id),
  requestedAt: r.requestedAt.toISOString(),
  decidedAt: r.decidedAt?.toISOString() ?? null,
})

/** Areas where `user` holds a role designated to break the glass (and to approve it). */
const designatedAreas = (user: AuthUser) => [
  ...new Set(user.roles.filter((r) => DESIGNATED.has(r.role)).map((r) => r.areaCode)),
]

/**
 * Break-glass (DESIGN §5): a designated person opens one case of their areas for a limited time
 * with a written reason — a case out of sight by sensitivity, or by a narrower role. Outside
 * their areas it answers like a missing case. A sensitive case without clearance needs a second
 * designated person with clearance (four eyes). The access rule (`api/access.ts`) honours the
 * grant; grants and requests are audited, each grant is reported to the focal points of the
 * case's area (outbox) and listed for those who oversee access.
 */
export function breakGlassRoutes(deps: { db: Db; cipher?: FieldCipher; publicUrl?: string }) {
  const db = deps.db

  /** The case `id` if it lies within the areas where `user` may break the glass. */
  const caseInAreas = (user: AuthUser, id: string) =>
    db
      .selectFrom('cases')
      .select(['id', 'areaCode', 'sensitive', 'reference'])
      .where('id', '=', id)
      .where('areaCode', 'in', areasWithin(db, designatedAreas(user)))
      .executeTakeFirst()

  /**
   * One running grant per person and case: the running one is answered again, else a new one is
   * written, audited and reported to the area's focal points, all in one transaction.
   */
  const grant = async (
    userId: string,
    role: string,
    found: { id: string; areaCode: string; reference: string | null },
    reason: string,
    approval?: { requestId: string; approvedBy: string },
  ) =>
    db.transaction().execute(async (trx) => {
      // Serialises concurrent breaks of one person on one case: never two grants.
      await sql`select pg_advisory_xact_lock(hashtextextended(${`break-glass:${userId}:${found.id}`}, 0))`.execute(
        trx,
      )
      const running = await trx
        .selectFrom('breakGlassGrants')
        .select('expiresAt')
        .where('userId', '=', userId)
        .where('caseId', '=', found.id)
        .where('expiresAt', '>', sql<Date>`now()`)
        .executeTakeFirst()
      if (running) return { expiresAt: running.expiresAt, created: false }
      const expiresAt = new Date(Date.now() + GRANT_MS)
      const { id: grantId } = await trx
        .insertInto('breakGlassGrants')
        .values({
          userId: userId,
          caseId: found.id,
          reason,
          expiresAt,
          requestId: approval?.requestId ?? null,
          approvedBy: approval?.approvedBy ?? null,
        })
        .returning('id')
        .executeTakeFirstOrThrow()
      await audit(trx, [{ userId: userId, action: 'break_glass', caseId: found.id, role }])
      // The programme's focal points for the case: holders of clearance whose area covers it.
      const focal = await trx
        .selectFrom('users as u')
        .innerJoin('userRoles as ur', 'ur.userId', 'u.id')
        .innerJoin('adminAreas as r', 'r.code', 'ur.areaCode')
        .innerJoin('adminAreas as c', (join) => join.on(within('c', 'r')))
        .where('c.code', '=', found.areaCode)
        .where('u.sensitiveClearance', '=', true)
        .where('u.active', '=', true)
        .where('ur.roleCode', 'in', ['case_worker', 'supervisor', 'programme_manager'])
        .where('u.id', '<>', userId)
        .where('u.email', 'is not', null)
        .select(['u.id', 'u.email'])
        .distinct()
        .execute()
      const link = deps.publicUrl
        ? // The console has no break-glass page yet: its home, where the focal point signs in.
          new URL('/admin/', deps.publicUrl).toString()
        : undefined
      await queueNotifications(
        trx,
        focal.map((f) => ({
          dedupeKey: `break-glass:${grantId}:${f.id}`,
          caseId: found.id,
          template: 'break_glass' as const,
          locale: 'fr' as const,
          recipient: f.email!,
          params: { reference: found.reference ?? found.id, ...(link ? { link } : {}) },
        })),
        { cipher: deps.cipher },
      )
      return { expiresAt, created: true }
    })

  const loadRequest = () =>
    db
      .selectFrom('breakGlassRequests as q')
      .innerJoin('users as u', 'u.id', 'q.userId')
      .select([
        'q.id',
        'q.caseId',
        'q.userId',
        'u.username',
        'q.reason',
        'q.status',
        'q.requestedAt',
        'q.decidedBy',
        'q.decidedAt',
      ])

  /** A request `user` may decide: designated with clearance in the case's area; else a 404. */
  const decidable = async (user: AuthUser, id: string) => {
    const role = user.roles.find((r) => DESIGNATED.has(r.role))?.role
    if (!role || !user.clearance) {
      throw new ApiError(403, 'NOT_ALLOWED', 'Only a designated person with clearance decides')
    }
    const row = await loadRequest()
      .where('q.id', '=', id)
      .innerJoin('cases', 'cases.id', 'q.caseId')
      .where('cases.areaCode', 'in', areasWithin(db, designatedAreas(user)))
      .select(['cases.areaCode', 'cases.reference'])
      .executeTakeFirst()
    if (!row) throw new ApiError(404, 'NOT_FOUND', 'Request not found')
    // Four eyes: never one's own request (the table refuses it too).
    if (row.userId === user.id) {
      throw new ApiError(403, 'FOUR_EYES', 'Another person must decide your own request')
    }
    if (row.status !== 'pending') {
      throw new ApiError(409, 'ALREADY_DECIDED', `This request is already ${row.status}`)
    }
    return { row, role }
  }

  /** Marks a pending request decided, once: a concurrent decision finds it no longer pending. */
  const decide = async (user: AuthUser, id: string, status: 'approved' | 'rejected') => {
    const done = await db
      .updateTable('breakGlassRequests')
      .set({ status, decidedBy: user.id, decidedAt: sql<Date>`now()` })
      .where('id', '=', id)
      .where('status', '=', 'pending')
      .returning('id')
      .executeTakeFirst()
    if (!done) throw new ApiError(409, 'ALREADY_DECIDED', 'This request is already decided')
  }

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(breakRoute, async (c) => {
      const user = c.get('user')
      const role = user.roles.find((r) => DESIGNATED.has(r.role))?.role
      if (!role) throw new ApiError(403, 'NOT_ALLOWED', 'Your role may not break the glass')
      const { id } = c.req.valid('param')
      const { reason } = c.req.valid('json')
      const found = await caseInAreas(user, id)
      // Outside one's areas: the audited answer of a missing case (no existence oracle).
      if (!found) return deny(db, user, { caseId: id })
      const running = await db
        .selectFrom('breakGlassGrants')
        .select('expiresAt')
        .where('userId', '=', user.id)
        .where('caseId', '=', id)
        .where('expiresAt', '>', sql<Date>`now()`)
        .executeTakeFirst()
      // One running grant per person and case: asking again answers it, writes nothing.
      if (running) return c.json({ caseId: id, expiresAt: running.expiresAt.toISOString() }, 200)
      if (found.sensitive && !user.clearance) {
        // A second person with clearance must approve: one pending request per person and case.
        const inserted = await db
          .insertInto('breakGlassRequests')
          .values({ userId: user.id, caseId: id, reason })
          .onConflict((oc) =>
            oc.columns(['userId', 'caseId']).where('status', '=', 'pending').doNothing(),
          )
          .returning('id')
          .executeTakeFirst()
        if (inserted) {
          await audit(db, [{ userId: user.id, action: 'break_glass_requested', caseId: id, role }])
        }
        const pending = await loadRequest()
          .where('q.userId', '=', user.id)
          .where('q.caseId', '=', id)
          .where('q.status', '=', 'pending')
          .executeTakeFirstOrThrow()
        return c.json(requestDto(pending), 202)
      }
      const { expiresAt, created } = await grant(user.id, role, found, reason)
      return c.json({ caseId: id, expiresAt: expiresAt.toISOString() }, created ? 201 : 200)
    })
    .openapi(requestsRoute, async (c) => {
      const user = c.get('user')
      if (!user.clearance || !user.roles.some((r) => DESIGNATED.has(r.role))) {
        throw new ApiError(403, 'NOT_ALLOWED', 'Only a designated person with clearance decides')
      }
      const rows = await db
        .selectFrom('breakGlassRequests as q')
        .innerJoin('users as u', 'u.id', 'q.userId')
        .innerJoin('cases', 'cases.id', 'q.caseId')
        .select([
          'q.id',
          'q.caseId',
          'q.userId',
          'u.username',
          'q.reason',
          'q.status',
          'q.requestedAt',
          'q.decidedBy',
          'q.decidedAt',
        ])
        .where('q.status', '=', 'pending')
        .where('q.userId', '<>', user.id)
        .where('cases.areaCode', 'in', areasWithin(db, designatedAreas(user)))
        .orderBy('q.requestedAt')
        .limit(200)
        .execute()
      return c.json(rows.map(requestDto), 200)
    })
    .openapi(decideRoute('approve'), async (c) => {
      const user = c.get('user')
      const { id } = c.req.valid('param')
      const { row, role } = await decidable(user, id)
      await decide(user, id, 'approved')
      await audit(db, [
        { userId: user.id, action: 'break_glass_approved', caseId: row.caseId, role },
      ])
      // The grant is the requester's, with the role they asked in.
      const requester = await db
        .selectFrom('userRoles')
        .select('roleCode')
        .where('userId', '=', row.userId)
        .where('roleCode', 'in', [...DESIGNATED])
        .executeTakeFirst()
      await grant(
        row.userId,
        requester?.roleCode ?? 'supervisor',
        { id: row.caseId, areaCode: row.areaCode, reference: row.reference },
        row.reason,
        { requestId: String(row.id), approvedBy: user.id },
      )
      return c.json(
        requestDto(await loadRequest().where('q.id', '=', id).executeTakeFirstOrThrow()),
        200,
      )
    })
    .openapi(decideRoute('reject'), async (c) => {
      const user = c.get('user')
      const { id } = c.req.valid('param')
      const { row, role } = await decidable(user, id)
      await decide(user, id, 'rejected')
      await audit(db, [
        { userId: user.id, action: 'break_glass_rejected', caseId: row.caseId, role },
      ])
      return c.json(
        requestDto(await loadRequest().where('q.id', '=', id).executeTakeFirstOrThrow()),
        200,
      )
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
          'g.approvedBy',
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
