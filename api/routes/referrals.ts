import { randomBytes } from 'node:crypto'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql, type Expression, type ExpressionBuilder, type SqlBool } from 'kysely'
import type { Db } from '../../activities/db/db'
import type { Database } from '../../activities/db/schema'
import { PRIORITIES, caseWorkflowId, ErrorCode } from '../../workflows/messages'
import {
  acceptReferralUpdate,
  DECLINE_REASONS,
  declineReferralUpdate,
  reportReferralUpdate,
  type Consent,
  type DeclineReason,
  type OpenReferralInput,
  type PartnerActor,
} from '../../workflows/kinds/referral/messages'
import { actorFor, audit, caseVisible } from '../access'
import type { AppEnv, AuthUser } from '../auth/types'
import { ApiError } from '../errors'
import { idempotency } from '../idempotency'
import {
  asArray,
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  startsWith,
  validationHook,
  type ListSpec,
} from '../lists'
import {
  commandRoutes,
  errorResponses,
  IdempotencyHeader,
  idParam,
  isoDateTime,
  getRouteFor,
  listRouteFor,
} from '../openapi'
import { refusal, temporalCall } from '../temporal-errors'
import { openCase } from '../cases/commands'
import { loadVisibleCase } from '../cases/service'
import { referralWorkflow } from '../../workflows/kinds/referral/workflow'
import { CaseAreaKey, CaseKindKey, CasePriorityKey } from '../../workflows/search-attributes'
import { withoutHiddenCases } from '../case-redaction'

export interface ReferralsDeps {
  db: Db
  temporal: Client
  taskQueue: string
}

const iso = isoDateTime
const errors = errorResponses

export const ReferralSchema = z
  .object({
    id: z.string(),
    reference: z.string().nullable(),
    serviceCode: z.string(),
    /** The partner it is routed to now; null while with the supervisor, or closed. */
    partnerCode: z.string().nullable(),
    /** open / closed (the case). */
    status: z.string(),
    /** routing, awaiting_partner, in_service, follow_up, supervision, closed. */
    stage: z.string(),
    partnerStatus: z.enum([
      'awaiting_response',
      'accepted',
      'delivered',
      'not_delivered',
      'unrouted',
      'closed',
    ]),
    /** The running leg's deadline (partner response, delivery, follow-up). */
    leg: z.string().nullable(),
    dueAt: iso.nullable(),
    slaState: z.enum(['on_track', 'at_risk', 'breached', 'met']),
    createdAt: iso,
    closedAt: iso.nullable(),
    areaCode: z.string(),
    sensitive: z.boolean(),
    sourceCaseId: z.string().nullable(),
    /** Registry household id: shown to a partner only once it has accepted the referral. */
    householdId: z.string().nullable(),
    partnersTried: z.array(z.string()),
    consent: z.object({
      given: z.boolean(),
      method: z.string().nullable(),
      recordedAt: iso,
      overridden: z.boolean(),
    }),
  })
  .openapi('Referral')
type ReferralDto = z.infer<typeof ReferralSchema>

const ReferralCreateSchema = z
  .object({
    /** The case it comes from (a grievance, a re-verification): its area, sensitivity, household. */
    sourceCaseId: z
      .string()
      .regex(/^[A-Za-z0-9-]{1,64}$/)
      .optional(),
    serviceCode: z.string().regex(/^[a-z_]{1,40}$/),
    /** The commune; from the source case when there is one. */
    areaCode: z
      .string()
      .regex(/^ML(-[A-Z0-9-]+)?$/)
      .optional(),
    householdId: z.string().max(64).optional(),
    priority: z.enum(PRIORITIES).default('normal'),
    consent: z.object({
      given: z.boolean(),
      method: z.enum(['verbal', 'written', 'thumbprint']).optional(),
    }),
    /** Refer a sensitive case without consent: needs the `can_override_consent` permission. */
    overrideConsent: z.object({ reason: z.string().trim().min(10).max(500) }).optional(),
  })
  .refine((b) => b.sourceCaseId || b.areaCode, {
    message: 'a referral needs a source case or an area',
    path: ['areaCode'],
  })
  .refine((b) => !b.consent.given || b.consent.method, {
    message: 'say how consent was given',
    path: ['consent', 'method'],
  })
  .openapi('ReferralCreate')

const referralList = {
  resource: 'referrals',
  sortable: ['dueAt', 'createdAt', 'serviceCode', 'partnerCode', 'stage', 'id'],
  defaultSort: { field: 'dueAt', order: 'ASC' },
  filters: {
    id: oneOrMany(z.string().max(64)),
    status: oneOrMany(z.enum(['open', 'closed'])),
    stage: oneOrMany(z.string().regex(/^[a-z_]{1,40}$/)),
    partnerStatus: oneOrMany(
      z.enum(['awaiting_response', 'accepted', 'delivered', 'not_delivered', 'unrouted', 'closed']),
    ),
    serviceCode: oneOrMany(z.string().regex(/^[a-z_]{1,40}$/)),
    partnerCode: oneOrMany(z.string().regex(/^[a-z0-9_-]{1,40}$/)),
    sourceCaseId: z.string().max(64),
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const IdParam = idParam('RF-1a2b3c4d')
const command = commandRoutes('referrals', IdParam, ReferralSchema)
const acceptRoute = command(
  'accept',
  'The partner takes the referral (partner users and systems)',
  z.object({}),
)
const declineRoute = command(
  'decline',
  'The partner declines, with a reason: the referral goes to the next partner',
  z.object({
    reason: z.enum(DECLINE_REASONS as [string, ...string[]]),
    note: z.string().trim().max(2000).optional(),
  }),
)
const reportRoute = command(
  'report',
  'The partner reports the service delivered or not',
  z.object({
    outcome: z.enum(['delivered', 'not_delivered']),
    note: z.string().trim().max(2000).optional(),
  }),
)

const listRoute = listRouteFor(
  'referrals',
  'Referrals: a partner sees those routed to it; staff those of the cases they see',
  listQuerySchema,
  ReferralSchema,
)
const getRoute = getRouteFor('referrals', 'A referral', IdParam, ReferralSchema, 'The referral')
const createReferralRoute = createRoute({
  method: 'post',
  path: '/',
  tags: ['referrals'],
  summary: 'Refer a household to a service (staff), with its consent recorded',
  request: {
    headers: IdempotencyHeader,
    body: { required: true, content: { 'application/json': { schema: ReferralCreateSchema } } },
  },
  responses: {
    201: {
      description: 'The referral',
      content: { 'application/json': { schema: ReferralSchema } },
    },
    ...errors(401, 403, 404, 409, 422, 503),
  },
})

const notFound = () => new ApiError(404, 'NOT_FOUND', 'Referral not found')
const toIso = (d: Date | string | null) => (d === null ? null : new Date(d).toISOString())

/** The partner organisation a user acts for, when they hold the partner role. */
async function partnerOf(db: Db, user: AuthUser): Promise<string | null> {
  if (!user.roles.some((r) => r.role === 'partner')) return null
  const row = await db
    .selectFrom('users')
    .select('partnerCode')
    .where('id', '=', user.id)
    .executeTakeFirst()
  return row?.partnerCode ?? null
}

type Scope = ExpressionBuilder<Database, 'cases' | 'referrals'>

/**
 * The access rule on referrals, in SQL: a partner user (or system) sees the referrals routed to
 * its organisation now, whatever their area; staff see those whose case they may see (area,
 * sensitivity); anyone else sees none.
 */
function referralVisible(user: AuthUser, partnerCode: string | null) {
  return (eb: Scope): Expression<SqlBool> => {
    if (partnerCode) return eb('referrals.partnerCode', '=', partnerCode)
    return caseVisible(user)(eb)
  }
}

const columns = [
  'cases.id',
  'cases.reference',
  'cases.status',
  'cases.stage',
  'cases.areaCode',
  'cases.sensitive',
  'cases.closedAt',
  'referrals.serviceCode',
  'referrals.partnerCode',
  'referrals.partnerStatus',
  'referrals.leg',
  'referrals.dueAt',
  'referrals.atRiskAt',
  'referrals.createdAt',
  'referrals.sourceCaseId',
  'referrals.householdId',
  'referrals.partnersTried',
  'referrals.consent',
] as const

function visibleReferrals(db: Db, user: AuthUser, partnerCode: string | null) {
  return db
    .selectFrom('referrals')
    .innerJoin('cases', 'cases.id', 'referrals.caseId')
    .where(referralVisible(user, partnerCode))
}

interface Row {
  id: string
  reference: string | null
  status: string
  stage: string
  areaCode: string
  sensitive: boolean
  closedAt: Date | null
  serviceCode: string
  partnerCode: string | null
  partnerStatus: ReferralDto['partnerStatus']
  leg: string | null
  dueAt: Date | null
  atRiskAt: Date | null
  createdAt: Date
  sourceCaseId: string | null
  householdId: string | null
  partnersTried: string[]
  consent: unknown
}

function dto(row: Row, asPartner: boolean): ReferralDto {
  const now = Date.now()
  const consent = row.consent as Consent
  const slaState =
    row.status === 'closed'
      ? 'met'
      : row.dueAt && now >= new Date(row.dueAt).getTime()
        ? 'breached'
        : row.atRiskAt && now >= new Date(row.atRiskAt).getTime()
          ? 'at_risk'
          : 'on_track'
  const accepted = ['accepted', 'delivered', 'not_delivered'].includes(row.partnerStatus)
  return {
    id: row.id,
    reference: row.reference,
    serviceCode: row.serviceCode,
    partnerCode: row.partnerCode,
    status: row.status,
    stage: row.stage,
    partnerStatus: row.partnerStatus,
    leg: row.leg,
    dueAt: toIso(row.dueAt),
    slaState,
    createdAt: toIso(row.createdAt)!,
    closedAt: toIso(row.closedAt),
    areaCode: row.areaCode,
    sensitive: row.sensitive,
    // A partner learns which case a referral came from, or which household, only as needed.
    sourceCaseId: asPartner ? null : row.sourceCaseId,
    householdId: asPartner && !accepted ? null : row.householdId,
    partnersTried: asPartner ? [] : row.partnersTried,
    consent: {
      given: consent.given,
      method: consent.method,
      recordedAt: consent.recordedAt,
      overridden: !!consent.overriddenBy,
    },
  }
}

/**
 * Referrals (DESIGN §4): staff refer a household to a service with consent recorded (mandatory
 * for a sensitive case; going without it is the separate `can_override_consent` permission, and
 * audited); partner users and partner systems (API token of a partner account) see only the
 * referrals routed to their organisation — another's answers 404 like a missing one — and
 * accept, decline with a reason, or report the service delivered. Each command is an Update of
 * the referral's workflow, answered once accepted and projected.
 */
export function referralsRoutes(deps: ReferralsDeps) {
  const { db, temporal } = deps
  const handle = (id: string) => temporal.workflow.getHandle(caseWorkflowId(id))

  const load = async (user: AuthUser, id: string) => {
    const partnerCode = await partnerOf(db, user)
    const row = (await visibleReferrals(db, user, partnerCode)
      .select(columns)
      .where('cases.id', '=', id)
      .executeTakeFirst()) as Row | undefined
    if (!row) {
      await audit(db, [{ userId: user.id, action: 'not_found', caseId: id }])
      throw notFound()
    }
    return { row, partnerCode }
  }

  /** A partner command: only a partner user or system of the organisation it is routed to. */
  const partnerCommand = async (
    user: AuthUser,
    id: string,
    exec: (actor: PartnerActor) => Promise<unknown>,
  ) => {
    const { partnerCode } = await load(user, id)
    if (!partnerCode) {
      throw new ApiError(403, ErrorCode.NOT_ALLOWED, 'Only the partner answers a referral')
    }
    await temporalCall(() =>
      exec({ userId: user.id, role: 'partner', clearance: false, partnerCode }),
    )
    const fresh = (await db
      .selectFrom('referrals')
      .innerJoin('cases', 'cases.id', 'referrals.caseId')
      .select(columns)
      .where('cases.id', '=', id)
      .executeTakeFirstOrThrow()) as Row
    // Once it has left this partner (declined), the partner does not learn where it went.
    return fresh.partnerCode === partnerCode
      ? dto(fresh, true)
      : {
          ...dto(fresh, true),
          partnerCode: null,
          partnerStatus: 'unrouted' as const,
          stage: 'routing',
          dueAt: null,
          leg: null,
        }
  }

  const app = new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
  app.on('POST', '/:id/*', idempotency({ db }))
  app.on('POST', '/', idempotency({ db }))

  return app
    .openapi(listRoute, async (c) => {
      const user = c.get('user')
      const partnerCode = await partnerOf(db, user)
      const { sort, offset, limit, filter } = parseListQuery(referralList, c.req.query())
      let query = visibleReferrals(db, user, partnerCode)
      if (filter.id !== undefined) query = query.where('cases.id', 'in', asArray(filter.id))
      if (filter.status !== undefined)
        query = query.where('cases.status', 'in', asArray(filter.status))
      if (filter.stage !== undefined)
        query = query.where('cases.stage', 'in', asArray(filter.stage))
      if (filter.partnerStatus !== undefined)
        query = query.where('referrals.partnerStatus', 'in', asArray(filter.partnerStatus))
      if (filter.serviceCode !== undefined)
        query = query.where('referrals.serviceCode', 'in', asArray(filter.serviceCode))
      if (filter.partnerCode !== undefined)
        query = query.where('referrals.partnerCode', 'in', asArray(filter.partnerCode))
      if (filter.sourceCaseId !== undefined)
        query = query.where('referrals.sourceCaseId', '=', filter.sourceCaseId)
      if (filter.q !== undefined) {
        const pattern = startsWith(filter.q)
        query = query.where((eb) =>
          eb.or([eb('cases.id', 'like', pattern), eb('cases.reference', 'like', pattern)]),
        )
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const field = {
        dueAt: 'referrals.due_at',
        createdAt: 'referrals.created_at',
        serviceCode: 'referrals.service_code',
        partnerCode: 'referrals.partner_code',
        stage: 'cases.stage',
        id: 'cases.id',
      }[sort.field]!
      const rows = (await query
        .select(columns)
        // The field comes from the whitelist above: a safe column name.
        .orderBy(sql.raw(field), (ob) =>
          sort.order === 'ASC' ? ob.asc().nullsLast() : ob.desc().nullsLast(),
        )
        .orderBy('cases.id')
        .offset(offset)
        .limit(limit)
        .execute()) as Row[]
      // Referrals of sensitive cases seen by staff in a list are audited like the cases.
      if (!partnerCode) {
        await audit(
          db,
          rows
            .filter((r) => r.sensitive)
            .map((r) => ({ userId: user.id, action: 'list' as const, caseId: r.id })),
        )
      }
      setContentRange(c, 'referrals', offset, rows.length, Number(total))
      return c.json(
        partnerCode
          ? rows.map((r) => dto(r, true))
          : await withoutHiddenCases(
              db,
              user,
              rows.map((r) => dto(r, false)),
            ),
        200,
      )
    })
    .openapi(getRoute, async (c) => {
      const user = c.get('user')
      const { row, partnerCode } = await load(user, c.req.valid('param').id)
      if (row.sensitive && !partnerCode) {
        await audit(db, [{ userId: user.id, action: 'read', caseId: row.id }])
      }
      // The source case is named only when this user may open it.
      // Partners see no case beyond their referrals (their answer carries no source case).
      const answer = dto(row, partnerCode !== null)
      return c.json(partnerCode ? answer : await withoutHiddenCases(db, user, answer), 200)
    })
    .openapi(createReferralRoute, async (c) => {
      const user = c.get('user')
      const body = c.req.valid('json')
      let areaCode = body.areaCode
      let sensitive = false
      let householdId = body.householdId ?? null
      if (body.sourceCaseId) {
        const { row } = await loadVisibleCase(db, user, body.sourceCaseId)
        areaCode = row.areaCode
        sensitive = row.sensitive
        householdId = householdId ?? row.householdId
      }
      const actor = await actorFor(db, user, areaCode!)
      if (!actor || actor.role === 'programme_manager') {
        throw new ApiError(403, ErrorCode.NOT_ALLOWED, 'You do not refer households in this area')
      }
      const service = await db
        .selectFrom('services')
        .select('code')
        .where('code', '=', body.serviceCode)
        .executeTakeFirst()
      if (!service) {
        throw new ApiError(422, ErrorCode.INVALID_COMMAND, 'Unknown service', [
          { path: 'serviceCode', message: 'no such service' },
        ])
      }
      // Consent: mandatory for a sensitive case, unless overridden with its own permission.
      let overriddenBy: string | null = null
      if (sensitive && !body.consent.given) {
        if (!body.overrideConsent) {
          throw refusal(
            ErrorCode.CONSENT_REQUIRED,
            'A sensitive case is referred only with the consent of the person',
          )
        }
        const may = await db
          .selectFrom('users')
          .select('canOverrideConsent')
          .where('id', '=', user.id)
          .executeTakeFirst()
        if (!may?.canOverrideConsent) {
          throw refusal(
            ErrorCode.CONSENT_OVERRIDE_NOT_ALLOWED,
            'Referring without consent needs the consent-override permission',
          )
        }
        overriddenBy = user.id
      }
      const caseId = `RF-${randomBytes(4).toString('hex')}`
      const consent: Consent = {
        given: body.consent.given,
        method: body.consent.method ?? null,
        recordedBy: user.id,
        recordedAt: new Date().toISOString(),
        ...(overriddenBy ? { overriddenBy, overrideReason: body.overrideConsent!.reason } : {}),
      }
      const input: OpenReferralInput = {
        caseId,
        reference: caseId,
        sourceCaseId: body.sourceCaseId ?? null,
        serviceCode: body.serviceCode,
        areaCode: areaCode!,
        householdId,
        sensitive,
        priority: body.priority,
        openedBy: actor,
        consent,
      }
      // Answered once the referral is routed (or with the supervisor) and projected.
      await temporalCall(() =>
        openCase(temporal, referralWorkflow, {
          workflowId: caseWorkflowId(caseId),
          taskQueue: deps.taskQueue,
          args: [input],
          typedSearchAttributes: [
            { key: CaseKindKey, value: 'referral' },
            { key: CaseAreaKey, value: input.areaCode },
            { key: CasePriorityKey, value: input.priority },
          ],
        }),
      )
      const row = (await db
        .selectFrom('referrals')
        .innerJoin('cases', 'cases.id', 'referrals.caseId')
        .select(columns)
        .where('cases.id', '=', caseId)
        .executeTakeFirstOrThrow()) as Row
      return c.json(dto(row, false), 201)
    })
    .openapi(acceptRoute, async (c) => {
      const id = c.req.valid('param').id
      const out = await partnerCommand(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(acceptReferralUpdate, { args: [{ actor }] }),
      )
      return c.json(out, 200)
    })
    .openapi(declineRoute, async (c) => {
      const id = c.req.valid('param').id
      const body = c.req.valid('json')
      const out = await partnerCommand(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(declineReferralUpdate, {
          args: [{ actor, reason: body.reason as DeclineReason, note: body.note }],
        }),
      )
      return c.json(out, 200)
    })
    .openapi(reportRoute, async (c) => {
      const id = c.req.valid('param').id
      const body = c.req.valid('json')
      const out = await partnerCommand(c.get('user'), id, (actor) =>
        handle(id).executeUpdate(reportReferralUpdate, {
          args: [{ actor, outcome: body.outcome, note: body.note }],
        }),
      )
      return c.json(out, 200)
    })
}
