import { CASE_KINDS, PRIORITIES } from '../../../workflows/messages'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { sql, type Selectable } from 'kysely'
import type { Db } from '../../../activities/db/db'
import type { SlaPoliciesTable } from '../../../activities/db/schema'
import type { AppEnv } from '../../auth/types'
import { idempotency } from '../../idempotency'
import {
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  validationHook,
  type ListSpec,
} from '../../lists'
import {
  asArray,
  errors,
  IdempotencyHeader,
  invalid,
  iso,
  jsonAnswer,
  jsonBody,
  notFound,
  pathParam,
  requireRole,
  toIso,
  unchanged,
  uniquely,
  knownCode,
} from './shared'

const caseKinds = CASE_KINDS
const priorities = PRIORITIES
/** Every stage a policy must time, in the order of a case. */
export const SLA_STAGES = [
  'acknowledge',
  'triage',
  'investigation',
  'approval',
  'resolve',
  'escalationRepeat',
  'appealWindow',
] as const

// Ten years of seconds: larger is a typo (milliseconds?), and would overflow the workflow's timers.
const MAX_TARGET = 10 * 365 * 24 * 3600
const seconds = z
  .number()
  .int({ message: 'whole seconds' })
  .positive({ message: 'must be positive' })
  .max(MAX_TARGET, { message: `at most ${MAX_TARGET} seconds` })

/** Targets in working seconds: every stage present, no unknown stage (a misspelt one never applies). */
const TargetsSchema = z
  .strictObject(
    Object.fromEntries(SLA_STAGES.map((s) => [s, seconds])) as Record<
      (typeof SLA_STAGES)[number],
      typeof seconds
    >,
  )
  .openapi('SlaTargets', {
    description: 'Working seconds by stage, on the business calendar (hours and holidays)',
    example: {
      acknowledge: 3600,
      triage: 28800,
      investigation: 288000,
      approval: 86400,
      resolve: 864000,
      escalationRepeat: 144000,
      appealWindow: 2592000,
    },
  })
const atRiskRatio = z
  .number()
  .gt(0, { message: 'must be above 0' })
  .lt(1, { message: 'must be below 1' })
  .openapi({ description: 'Share of the target after which a case is at risk', example: 0.75 })

export const SlaPolicySchema = z
  .object({
    id: z.number().int(),
    caseKind: z.string(),
    /** null: any category. */
    category: z.string().nullable(),
    /** null: any priority. */
    priority: z.string().nullable(),
    targets: z.record(z.string(), z.number()),
    atRiskRatio: z.number(),
    active: z.boolean(),
    updatedAt: iso,
  })
  .openapi('SlaPolicy')

const SlaPolicyCreateSchema = z
  .object({
    caseKind: z.enum(caseKinds),
    category: knownCode.nullable().default(null),
    priority: z.enum(priorities).nullable().default(null),
    targets: TargetsSchema,
    atRiskRatio: atRiskRatio.default(0.75),
    active: z.boolean().default(true),
  })
  .openapi('SlaPolicyCreate')

const SlaPolicyUpdateSchema = z
  .object({
    /** The scope (id, kind, category, priority) is accepted only with its current value. */
    id: z.number().optional(),
    caseKind: z.string().optional(),
    category: z.string().nullable().optional(),
    priority: z.string().nullable().optional(),
    targets: TargetsSchema.optional(),
    atRiskRatio: atRiskRatio.optional(),
    active: z.boolean().optional(),
  })
  .openapi('SlaPolicyUpdate')

const policyList = {
  resource: 'sla-policies',
  sortable: ['id', 'caseKind', 'category', 'priority', 'active', 'updatedAt'],
  defaultSort: { field: 'id', order: 'ASC' },
  filters: {
    id: oneOrMany(z.number().int().min(1).max(2_147_483_647)),
    caseKind: oneOrMany(z.enum(caseKinds)),
    category: knownCode.nullable(),
    priority: z.enum(priorities).nullable(),
    active: z.boolean(),
  },
} satisfies ListSpec<z.ZodRawShape>

const IdParam = pathParam('id', '1')
const tags = ['sla-policies']
const snapshotNote =
  'A policy is snapshotted into a case when the case opens: creating, changing or deactivating ' +
  'a policy applies to cases opened afterwards and never touches running cases, which keep ' +
  'their snapshot. The most specific active policy (kind × category × priority) applies.'
const readers = requireRole('supervisor', 'programme_manager', 'administrator')

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'SLA policies (supervisors, programme managers, administrators)',
  description: snapshotNote,
  middleware: readers,
  request: { query: listQuerySchema },
  responses: {
    200: jsonAnswer('A page of policies; `Content-Range`', z.array(SlaPolicySchema)),
    ...errors(400, 401, 403),
  },
})
const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  tags,
  summary: 'An SLA policy',
  description: snapshotNote,
  middleware: readers,
  request: { params: IdParam },
  responses: { 200: jsonAnswer('The policy', SlaPolicySchema), ...errors(401, 403, 404) },
})

function writeRoutes(db: Db) {
  const write = {
    middleware: [requireRole('administrator'), idempotency({ db })],
    tags,
    description: snapshotNote,
  }
  return {
    create: createRoute({
      ...write,
      method: 'post',
      path: '/',
      summary: 'Create an SLA policy (administrators)',
      request: { headers: IdempotencyHeader, body: jsonBody(SlaPolicyCreateSchema) },
      responses: { 201: jsonAnswer('The policy', SlaPolicySchema), ...errors(401, 403, 409, 422) },
    }),
    update: createRoute({
      ...write,
      method: 'put',
      path: '/{id}',
      summary: 'Change the targets, ratio or `active` flag of an SLA policy (administrators)',
      request: {
        params: IdParam,
        headers: IdempotencyHeader,
        body: jsonBody(SlaPolicyUpdateSchema),
      },
      responses: {
        200: jsonAnswer('The policy', SlaPolicySchema),
        ...errors(401, 403, 404, 409, 422),
      },
    }),
  }
}

const dto = (row: Selectable<SlaPoliciesTable>) => ({
  id: row.id,
  caseKind: row.caseKind,
  category: row.category,
  priority: row.priority,
  targets: row.targets,
  atRiskRatio: Number(row.atRiskRatio),
  active: row.active,
  updatedAt: toIso(row.updatedAt),
})
const overlapping = 'An active policy already exists for this case kind, category and priority'

/**
 * SLA policies (DESIGN §3): targets in working seconds per case kind × category × priority ×
 * stage. Supervisors, programme managers and administrators read them; administrators create and
 * change them. Targets are validated whole (every stage, positive whole seconds, 0 < atRiskRatio
 * < 1). A policy's scope is fixed once created, and the default policy of a case kind (any
 * category, any priority) cannot be deactivated: a case must always find a policy. Changes apply
 * to cases opened afterwards only; running cases keep their snapshot.
 */
export function slaPoliciesRoutes({ db }: { db: Db }) {
  const write = writeRoutes(db)
  const parseId = (raw: string) => (/^\d{1,9}$/.test(raw) ? Number(raw) : undefined)

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(policyList, c.req.query())
      let query = db.selectFrom('slaPolicies')
      if (filter.id !== undefined) query = query.where('id', 'in', asArray(filter.id))
      if (filter.caseKind !== undefined)
        query = query.where('caseKind', 'in', asArray(filter.caseKind))
      if (filter.category !== undefined) {
        query =
          filter.category === null
            ? query.where('category', 'is', null)
            : query.where('category', '=', filter.category)
      }
      if (filter.priority !== undefined) {
        query =
          filter.priority === null
            ? query.where('priority', 'is', null)
            : query.where('priority', '=', filter.priority)
      }
      if (filter.active !== undefined) query = query.where('active', '=', filter.active)
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .selectAll()
        .orderBy(sql.ref(`sla_policies.${sort.field}`), (ob) =>
          sort.order === 'ASC' ? ob.asc().nullsFirst() : ob.desc().nullsLast(),
        )
        .orderBy('id')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'sla-policies', offset, rows.length, Number(total))
      return c.json(rows.map(dto), 200)
    })
    .openapi(getRoute, async (c) => {
      const id = parseId(c.req.valid('param').id)
      const row =
        id === undefined
          ? undefined
          : await db.selectFrom('slaPolicies').selectAll().where('id', '=', id).executeTakeFirst()
      if (!row) throw notFound('SLA policy')
      return c.json(dto(row), 200)
    })
    .openapi(write.create, async (c) => {
      const body = c.req.valid('json')
      if (body.category !== null) {
        const category = await db
          .selectFrom('categories')
          .select('caseKind')
          .where('code', '=', body.category)
          .executeTakeFirst()
        if (!category) throw invalid('category', 'no such category')
        if (category.caseKind !== body.caseKind) {
          throw invalid('category', `a category of ${category.caseKind} cases`)
        }
      }
      const row = await uniquely(overlapping, () =>
        db.insertInto('slaPolicies').values(body).returningAll().executeTakeFirstOrThrow(),
      )
      return c.json(dto(row), 201)
    })
    .openapi(write.update, async (c) => {
      const id = parseId(c.req.valid('param').id)
      const body = c.req.valid('json')
      const current =
        id === undefined
          ? undefined
          : await db.selectFrom('slaPolicies').selectAll().where('id', '=', id).executeTakeFirst()
      if (!current) throw notFound('SLA policy')
      unchanged('id', body.id, current.id)
      unchanged('caseKind', body.caseKind, current.caseKind)
      unchanged('category', body.category, current.category)
      unchanged('priority', body.priority, current.priority)
      if (
        body.active === false &&
        current.active &&
        current.category === null &&
        current.priority === null
      ) {
        // loadCaseContext refuses to open a case without a policy: keep a default in force.
        throw invalid('active', 'the default policy of a case kind cannot be deactivated')
      }
      const changes = {
        ...(body.targets ? { targets: body.targets } : {}),
        ...(body.atRiskRatio !== undefined ? { atRiskRatio: body.atRiskRatio } : {}),
        ...(body.active !== undefined ? { active: body.active } : {}),
      }
      const row = Object.keys(changes).length
        ? await uniquely(overlapping, () =>
            db
              .updateTable('slaPolicies')
              .set({ ...changes, updatedAt: sql<Date>`now()` })
              .where('id', '=', current.id)
              .returningAll()
              .executeTakeFirstOrThrow(),
          )
        : current
      return c.json(dto(row), 200)
    })
}
