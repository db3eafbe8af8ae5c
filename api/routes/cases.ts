import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql, type Selectable } from 'kysely'
import type { Db } from '../../activities/db/db'
import type { FieldCipher } from '../../activities/crypto/field-cipher'
import type { CasesTable } from '../../activities/db/schema'
import { categoryCodes } from '../../workflows/forms'
import {
  PRIORITIES,
  CASE_KINDS,
  caseWorkflowId,
  extendSlaUpdate,
  grievanceViewQuery,
  markDuplicateUpdate,
  PAUSE_REASONS,
  pauseSlaUpdate,
  recordSatisfactionUpdate,
  resumeSlaUpdate,
  withdrawUpdate,
  type Actor,
  type AddNoteCommand,
  type CaseView,
  type ExtendSlaCommand,
  type LinkCaseCommand,
  type MarkDuplicateCommand,
  type PauseSlaCommand,
  type ResumeSlaCommand,
  type SatisfactionCommand,
  type WithdrawCommand,
  addNoteUpdate,
  linkCaseUpdate,
} from '../../workflows/messages'
import { actorFor, areasWithin, audit, visibleCases } from '../access'
import { commandBody, liveState, settleLegacy, splitAnswer } from '../cases/commands'
import { caseDto, CaseSchema, loadVisibleCase } from '../cases/service'
import { registerGrievance } from '../cases/intake'
import { caseChain, CaseChainSchema } from '../case-chain'
import { withoutHiddenCases } from '../case-redaction'
import type { AppEnv, AuthUser } from '../auth/types'
import { reopenCase } from '../commands/reopen'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import {
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  boundedTotal,
  validationHook,
  type ListSpec,
  asArray,
  startsWith,
} from '../lists'
import { temporalCall } from '../temporal-errors'
import {
  ErrorSchema,
  errorResponses,
  IdempotencyHeader,
  commandRoutes,
  idParam,
  isoDateTime,
  getRouteFor,
  listRouteFor,
} from '../openapi'

export interface CasesDeps {
  db: Db
  temporal: Client
  taskQueue: string
  /** Seals the stored answers of repeated writes (an intake's answer holds the PIN). */
  cipher?: FieldCipher
}

// ---- Schemas ----

export { ErrorSchema, CaseSchema, caseDto, loadVisibleCase }
const errors = errorResponses
const iso = isoDateTime

const EventSchema = z
  .object({
    id: z.string(),
    seq: z.number().int(),
    type: z.string(),
    actorId: z.string().nullable(),
    actorRole: z.string().nullable(),
    occurredAt: iso,
    before: z.unknown(),
    after: z.unknown(),
    /** The SLA clock event it carries, if any (the policy snapshot stays server-side). */
    clock: z.unknown().optional(),
  })
  .openapi('CaseEvent')

const LiveTaskSchema = z.object({
  id: z.string(),
  kind: z.string(),
  status: z.string(),
  candidateRole: z.string(),
  areaCode: z.string(),
  assigneeId: z.string().nullable(),
  requiresClearance: z.boolean(),
  createdAt: iso,
  dueAt: iso.nullable(),
  escalationLevel: z.number().optional(),
  approval: z.unknown().optional(),
  sentBackReason: z.string().optional(),
  result: z.record(z.string(), z.unknown()).optional(),
  completedBy: z.string().optional(),
  completedAt: iso.optional(),
})

const LiveSchema = z
  .object({
    status: z.string(),
    stage: z.string(),
    seq: z.number().int(),
    /** Null for a case whose kind keeps no whole-case clock. */
    sla: z
      .object({
        state: z.string(),
        targetMs: z.number(),
        elapsedMs: z.number(),
        remainingMs: z.number(),
        dueAt: iso.nullable(),
        atRiskAt: iso.nullable(),
        paused: z.boolean(),
        pauseReason: z.string().optional(),
        breachedAt: iso.nullable(),
      })
      .nullable(),
    escalationLevel: z.number().int(),
    tasks: z.array(LiveTaskSchema),
    resolution: z.unknown().optional(),
    satisfaction: z.string().optional(),
    duplicateOf: z.string().optional(),
    appealWindowEndsAt: iso.optional(),
    notes: z
      .array(
        z.object({
          no: z.number().int(),
          by: z.string().nullable(),
          role: z.string(),
          at: iso,
          text: z.string(),
        }),
      )
      .optional(),
    links: z.array(z.object({ toCaseId: z.string(), kind: z.string() })).optional(),
  })
  .openapi('CaseLiveState')

const CaseDetailSchema = CaseSchema.extend({
  /** From the workflow when it answers; null when it cannot be queried (the row is then the truth). */
  live: LiveSchema.nullable(),
  timeline: z.array(EventSchema),
  /** The chain of linked cases (spawned, appeal of…) the user may see. */
  chain: CaseChainSchema,
}).openapi('CaseDetail')

const CommandResultSchema = z
  .object({ case: CaseSchema, result: z.unknown() })
  .openapi('CaseCommandResult')

const IdParam = idParam('G-1a2b3c4d')

function liveView(view: CaseView): z.infer<typeof LiveSchema> {
  return {
    status: view.status,
    stage: view.stage,
    seq: view.seq,
    sla: view.sla,
    escalationLevel: view.escalationLevel ?? 0,
    tasks: view.tasks,
    resolution: view.resolution,
    satisfaction: view.satisfaction,
    duplicateOf: view.duplicateOf,
    appealWindowEndsAt: view.appealWindowEndsAt,
    // A partner's note on a referral carries the partner's role.
    notes: view.notes?.map((n, i) => ({ ...n, no: n.no ?? i + 1, role: n.role ?? 'partner' })),
    links: view.links,
  }
}

// ---- Lists ----

const caseList = {
  resource: 'cases',
  sortable: [
    'id',
    'openedAt',
    'updatedAt',
    'resolveDueAt',
    'priority',
    'status',
    'stage',
    'slaState',
    'areaCode',
    'category',
    'escalationLevel',
  ],
  defaultSort: { field: 'openedAt', order: 'DESC' },
  filters: {
    id: oneOrMany(z.string().max(64)),
    status: oneOrMany(z.enum(['open', 'closed'])),
    stage: oneOrMany(z.string().regex(/^[a-z_]{1,40}$/)),
    kind: oneOrMany(z.enum(CASE_KINDS)),
    /** The area and every area below it. */
    areaCode: z.string().regex(/^[A-Za-z0-9-]{1,40}$/),
    category: oneOrMany(z.enum(categoryCodes)),
    priority: oneOrMany(z.enum(PRIORITIES)),
    slaState: oneOrMany(z.enum(['on_track', 'at_risk', 'breached', 'paused', 'met'])),
    sensitive: z.boolean(),
    /** Case id or public reference, by prefix. */
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const priorityRank = sql<number>`case cases.priority when 'urgent' then 3 when 'high' then 2 when 'normal' then 1 else 0 end`

// ---- Routes ----

const listRoute = listRouteFor(
  'cases',
  'Cases the user may see (react-admin list conventions)',
  listQuerySchema,
  CaseSchema,
)

const getRoute = getRouteFor(
  'cases',
  'A case: its row, its live state from the workflow and its timeline',
  IdParam,
  CaseDetailSchema,
  'The case',
)

const eventsRoute = createRoute({
  method: 'get',
  path: '/{id}/events',
  tags: ['cases'],
  summary: "A case's audit trail, in order",
  request: { params: IdParam },
  responses: {
    200: {
      description: 'Events ordered by sequence',
      content: { 'application/json': { schema: z.array(EventSchema) } },
    },
    ...errors(401, 404),
  },
})

const command = commandRoutes('cases', IdParam, CommandResultSchema)

const reason = z.string().trim().min(3).max(500)
const pauseRoute = command(
  'pause-sla',
  'Pause the SLA clock (waiting for the complainant, a partner…)',
  commandBody<PauseSlaCommand>()(z.object({ reason: z.enum(PAUSE_REASONS) })),
)
const resumeRoute = command(
  'resume-sla',
  'Resume the SLA clock',
  commandBody<ResumeSlaCommand>()(z.object({})),
)
const extendRoute = command(
  'extend-sla',
  "Extend the resolve deadline (a supervisor's grant), in working milliseconds",
  commandBody<ExtendSlaCommand>()(
    z.object({
      byMs: z
        .number()
        .int()
        .positive()
        .max(365 * 24 * 3600_000),
      reason,
    }),
  ),
)
const withdrawRoute = command(
  'withdraw',
  'The complainant withdraws',
  commandBody<WithdrawCommand>()(z.object({ reason })),
)
const duplicateRoute = command(
  'duplicate',
  'Close as a duplicate of another case',
  commandBody<MarkDuplicateCommand>()(
    z.object({ duplicateOf: z.string().regex(/^[A-Za-z0-9-]{1,64}$/) }),
  ),
)
const satisfactionRoute = command(
  'satisfaction',
  "Record the complainant's satisfaction",
  commandBody<SatisfactionCommand>()(
    z.object({
      satisfaction: z.enum(['satisfied', 'partly_satisfied', 'not_satisfied', 'not_reached']),
    }),
  ),
)
const reopenRoute = command('reopen', 'Reopen a closed case (a supervisor)', z.object({ reason }))
const noteRoute = command(
  'notes',
  'Add a note to the case (staff; the text stays in the encrypted case history)',
  commandBody<AddNoteCommand>()(z.object({ text: z.string().trim().min(2).max(5000) })),
)
const linkRoute = command(
  'links',
  'Link another case to this one',
  commandBody<LinkCaseCommand>()(
    z.object({
      toCaseId: z.string().regex(/^[A-Za-z0-9-]{1,64}$/),
      kind: z.enum(['related', 'spawned', 'appeal_of']),
    }),
  ),
)

const IntakeSchema = z
  .object({
    communeCode: z.string().regex(/^ML(-[A-Z0-9-]+)?$/),
    channel: z.enum(['hotline', 'sms', 'in_person', 'community_committee', 'email']),
    category: z.enum(categoryCodes).optional(),
    priority: z.enum(PRIORITIES).optional(),
    narrative: z.string().trim().min(10).max(5000),
    anonymous: z.boolean().default(false),
    contact: z
      .object({
        email: z.email().max(254).optional(),
        phone: z
          .string()
          .regex(/^\+?[0-9 ]{8,20}$/)
          .optional(),
      })
      .optional(),
    locale: z.enum(['fr', 'en']).default('fr'),
  })
  .openapi('StaffIntake')

const intakeRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['cases'],
  summary: 'Register a grievance received by hotline, SMS, in person, committee or email',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: IntakeSchema } } },
  },
  responses: {
    201: {
      description: 'Registered: the reference and PIN to give the complainant (shown once)',
      content: {
        'application/json': {
          schema: z.object({
            id: z.string(),
            caseId: z.string(),
            reference: z.string(),
            pin: z.string(),
          }),
        },
      },
    },
    ...errors(400, 401, 403, 409, 422, 503),
  },
})

/**
 * Cases (DESIGN §5, §6): lists and details scoped in SQL by role × area × sensitivity, where a
 * case out of scope answers exactly like a missing one and every sensitive read or denied access
 * is audited; commands go to the case's workflow as Updates with an `Actor` built from the
 * signed-in user, and answer once accepted and projected. Writes honour `Idempotency-Key`.
 */
export function casesRoutes(deps: CasesDeps) {
  const { db, temporal } = deps
  const handle = (caseId: string) => temporal.workflow.getHandle(caseWorkflowId(caseId))

  /** Runs a command on a visible case, then answers with the refreshed row and its result. */
  const run = async (
    user: AuthUser,
    caseId: string,
    exec: (actor: Actor, row: Selectable<CasesTable>) => Promise<unknown>,
  ) => {
    const { row, actor } = await loadVisibleCase(db, user, caseId)
    const { projected, result } = splitAnswer(await temporalCall(() => exec(actor, row)))
    // The kernel answers with the row its projection wrote; a case opened before it is awaited.
    if (projected?.case) return { case: caseDto(projected.case), result: result ?? null }
    await settleLegacy(db, temporal, caseId)
    const fresh = await db
      .selectFrom('cases')
      .selectAll()
      .where('id', '=', caseId)
      .executeTakeFirstOrThrow()
    return { case: caseDto(fresh), result: result ?? null }
  }

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.on('POST', '/:id/*', idempotency({ db, cipher: deps.cipher }))
  app.on('POST', '/', idempotency({ db, cipher: deps.cipher }))

  return app
    .openapi(intakeRoute, async (c) => {
      const user = c.get('user')
      const body = c.req.valid('json')
      // Staff register cases in the communes they cover, as case workers or supervisors.
      const actor = await actorFor(db, user, body.communeCode)
      if (!actor || (actor.role !== 'case_worker' && actor.role !== 'supervisor')) {
        throw new ApiError(403, 'NOT_ALLOWED', 'You do not register cases in this commune')
      }
      const receipt = await temporalCall(() =>
        registerGrievance(
          { db, temporal, taskQueue: deps.taskQueue },
          { ...body, openedBy: actor },
        ),
      )
      return c.json({ id: receipt.caseId, ...receipt }, 201)
    })
    .openapi(listRoute, async (c) => {
      const user = c.get('user')
      const { sort, offset, limit, filter } = parseListQuery(caseList, c.req.query())
      let query = visibleCases(db, user)
      if (filter.id !== undefined) query = query.where('cases.id', 'in', asArray(filter.id))
      if (filter.status !== undefined)
        query = query.where('cases.status', 'in', asArray(filter.status))
      if (filter.stage !== undefined)
        query = query.where('cases.stage', 'in', asArray(filter.stage))
      if (filter.kind !== undefined) query = query.where('cases.kind', 'in', asArray(filter.kind))
      if (filter.category !== undefined)
        query = query.where('cases.category', 'in', asArray(filter.category))
      if (filter.priority !== undefined)
        query = query.where('cases.priority', 'in', asArray(filter.priority))
      if (filter.slaState !== undefined)
        query = query.where('cases.slaState', 'in', asArray(filter.slaState))
      if (filter.sensitive !== undefined)
        query = query.where('cases.sensitive', '=', filter.sensitive)
      if (filter.areaCode !== undefined)
        query = query.where('cases.areaCode', 'in', areasWithin(db, [filter.areaCode]))
      if (filter.q !== undefined) {
        const pattern = startsWith(filter.q)
        query = query.where((eb) =>
          eb.or([eb('cases.id', 'like', pattern), eb('cases.reference', 'like', pattern)]),
        )
      }
      const direction = sort.order === 'ASC' ? 'asc' : 'desc'
      // sort.field is one of caseList.sortable (checked by parseListQuery): a safe column name.
      const rows = await query
        .selectAll('cases')
        .orderBy(sort.field === 'priority' ? priorityRank : sql.ref(`cases.${sort.field}`), (ob) =>
          direction === 'asc' ? ob.asc().nullsLast() : ob.desc().nullsLast(),
        )
        .orderBy('cases.id')
        .offset(offset)
        .limit(limit)
        .execute()
      // Sensitive cases seen in a list are audited too: the list shows their codes.
      await audit(
        db,
        rows
          .filter((r) => r.sensitive)
          .map((r) => ({ userId: user.id, action: 'list' as const, caseId: r.id })),
      )
      // Exact up to EXACT_TOTAL_CAP matching cases, the planner's estimate past it (boundedTotal).
      const total = await boundedTotal(db, query, { offset, limit, count: rows.length })
      setContentRange(c, 'cases', offset, rows.length, total)
      // A row's parent may be a case hidden from this user: its id is not shown.
      return c.json(await withoutHiddenCases(db, user, rows.map(caseDto)), 200)
    })
    .openapi(getRoute, async (c) => {
      const user = c.get('user')
      const { row, actor } = await loadVisibleCase(db, user, c.req.valid('param').id)
      if (row.sensitive) {
        await audit(db, [{ userId: user.id, action: 'read', caseId: row.id, role: actor.role }])
      }
      // A workflow that cannot answer quickly (no worker, still opening) falls back to the row;
      // a grievance opened before the kernel answers its own view.
      const view =
        (await liveState(temporal, row.id)) ??
        (row.kind === 'grievance'
          ? await temporal.connection
              .withDeadline(Date.now() + 3_000, () => handle(row.id).query(grievanceViewQuery))
              .catch(() => null)
          : null)
      const live = view ? liveView(view as CaseView) : null
      // Links, spawned cases, duplicates, the parent: no id of a case hidden from this user.
      const detail = await withoutHiddenCases(
        db,
        user,
        {
          ...caseDto(row),
          live,
          timeline: await timeline(db, row.id),
          chain: await caseChain(db, user, row.id),
        },
        'timeline',
      )
      return c.json(detail, 200)
    })
    .openapi(eventsRoute, async (c) => {
      const user = c.get('user')
      const { row, actor } = await loadVisibleCase(db, user, c.req.valid('param').id)
      if (row.sensitive) {
        await audit(db, [{ userId: user.id, action: 'read', caseId: row.id, role: actor.role }])
      }
      const { events } = await withoutHiddenCases(
        db,
        user,
        { events: await timeline(db, row.id) },
        'events',
      )
      setContentRange(c, 'events', 0, events.length, events.length)
      return c.json(events, 200)
    })
    .openapi(pauseRoute, async (c) => {
      const body = c.req.valid('json')
      const out = await run(c.get('user'), c.req.valid('param').id, (actor) =>
        handle(c.req.valid('param').id).executeUpdate(pauseSlaUpdate, {
          args: [{ reason: body.reason, actor }],
        }),
      )
      return c.json(out, 200)
    })
    .openapi(resumeRoute, async (c) => {
      const id = c.req.valid('param').id
      const out = await run(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(resumeSlaUpdate, { args: [{ actor }] }),
      )
      return c.json(out, 200)
    })
    .openapi(extendRoute, async (c) => {
      const id = c.req.valid('param').id
      const body = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(extendSlaUpdate, {
          args: [{ byMs: body.byMs, reason: body.reason, actor }],
        }),
      )
      return c.json(out, 200)
    })
    .openapi(withdrawRoute, async (c) => {
      const id = c.req.valid('param').id
      const body = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(withdrawUpdate, { args: [{ actor, reason: body.reason }] }),
      )
      return c.json(out, 200)
    })
    .openapi(duplicateRoute, async (c) => {
      const id = c.req.valid('param').id
      const user = c.get('user')
      const { duplicateOf } = c.req.valid('json')
      const out = await run(user, id, async (actor) => {
        // The original must be a case this user may see: linking is no way to probe for ids.
        const original = await visibleCases(db, user)
          .select('cases.id')
          .where('cases.id', '=', duplicateOf)
          .executeTakeFirst()
        if (!original || duplicateOf === id) {
          throw new ApiError(422, 'INVALID_COMMAND', 'duplicateOf must be another case', [
            { path: 'duplicateOf', message: 'no such case' },
          ])
        }
        return handle(id).executeUpdate(markDuplicateUpdate, { args: [{ actor, duplicateOf }] })
      })
      return c.json(out, 200)
    })
    .openapi(satisfactionRoute, async (c) => {
      const id = c.req.valid('param').id
      const { satisfaction } = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(recordSatisfactionUpdate, { args: [{ actor, satisfaction }] }),
      )
      return c.json(out, 200)
    })
    .openapi(noteRoute, async (c) => {
      const id = c.req.valid('param').id
      const { text } = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(addNoteUpdate, { args: [{ actor, text }] }),
      )
      return c.json(out, 200)
    })
    .openapi(linkRoute, async (c) => {
      const user = c.get('user')
      const id = c.req.valid('param').id
      const { toCaseId, kind } = c.req.valid('json')
      const out = await run(user, id, async (actor) => {
        // The other case must be one this user may see: linking is no way to probe for ids.
        const other = await visibleCases(db, user)
          .select('cases.id')
          .where('cases.id', '=', toCaseId)
          .executeTakeFirst()
        if (!other || toCaseId === id) {
          throw new ApiError(422, 'INVALID_COMMAND', 'toCaseId must be another case', [
            { path: 'toCaseId', message: 'no such case' },
          ])
        }
        return handle(id).executeUpdate(linkCaseUpdate, { args: [{ actor, toCaseId, kind }] })
      })
      return c.json(out, 200)
    })
    .openapi(reopenRoute, async (c) => {
      const id = c.req.valid('param').id
      const body = c.req.valid('json')
      const out = await run(c.get('user'), id, (actor) =>
        reopenCase(temporal, { caseId: id, taskQueue: deps.taskQueue, actor, reason: body.reason }),
      )
      return c.json(out, 200)
    })
}

async function timeline(db: Db, caseId: string) {
  const rows = await db
    .selectFrom('caseEvents')
    .select(['id', 'seq', 'type', 'actorId', 'actorRole', 'occurredAt', 'before', 'after', 'data'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()
  return rows.map((e) => {
    const data = e.data as { clock?: unknown } | null
    return {
      id: String(e.id),
      seq: e.seq,
      type: e.type,
      actorId: e.actorId,
      actorRole: e.actorRole,
      occurredAt: new Date(e.occurredAt).toISOString(),
      before: e.before ?? null,
      after: e.after ?? null,
      ...(data?.clock ? { clock: data.clock } : {}),
    }
  })
}
