import { CASE_KINDS } from '../../../workflows/messages'
import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { getRouteFor, listRouteFor } from '../../openapi'
import { sql, type Selectable } from 'kysely'
import type { Db } from '../../../activities/db/db'
import type { CategoriesTable } from '../../../activities/db/schema'
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
  contains,
  errors,
  IdempotencyHeader,
  jsonAnswer,
  jsonBody,
  notFound,
  pathParam,
  referenceCode,
  requireRole,
  startsWith,
  unchanged,
  uniquely,
  text,
} from './shared'

const caseKinds = CASE_KINDS
const label = text(200)

export const CategorySchema = z
  .object({
    id: z.string(),
    code: z.string(),
    caseKind: z.string(),
    labelFr: z.string(),
    labelEn: z.string(),
    /** Cases of a sensitive category go only to designated focal points. */
    sensitive: z.boolean(),
    /** An inactive category is not offered for new cases; existing cases keep it. */
    active: z.boolean(),
  })
  .openapi('Category')

const CategoryCreateSchema = z
  .object({
    code: referenceCode,
    caseKind: z.enum(caseKinds).default('grievance'),
    labelFr: label,
    labelEn: label,
    sensitive: z.boolean().default(false),
    active: z.boolean().default(true),
  })
  .openapi('CategoryCreate')

const CategoryUpdateSchema = z
  .object({
    /** Immutable: accepted only with its current value (react-admin sends the whole record). */
    id: z.string().optional(),
    code: z.string().optional(),
    caseKind: z.enum(caseKinds).optional(),
    labelFr: label.optional(),
    labelEn: label.optional(),
    sensitive: z.boolean().optional(),
    active: z.boolean().optional(),
  })
  .openapi('CategoryUpdate')

const categoryList = {
  resource: 'categories',
  sortable: ['code', 'labelFr', 'labelEn', 'caseKind', 'sensitive', 'active'],
  defaultSort: { field: 'code', order: 'ASC' },
  filters: {
    id: oneOrMany(z.string().max(40)),
    caseKind: oneOrMany(z.enum(caseKinds)),
    sensitive: z.boolean(),
    active: z.boolean(),
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const CodeParam = pathParam('code', 'payment_not_received')
const tags = ['categories']

const listRoute = listRouteFor('categories', 'Case categories', listQuerySchema, CategorySchema)
const getRoute = getRouteFor(
  'categories',
  'A category',
  CodeParam,
  CategorySchema,
  'The category',
  '/{code}',
)

function writeRoutes(db: Db) {
  const middleware = [requireRole('administrator'), idempotency({ db })]
  const create = createRoute({
    method: 'post',
    path: '/',
    tags,
    summary: 'Create a category (administrators)',
    middleware,
    request: { headers: IdempotencyHeader, body: jsonBody(CategoryCreateSchema) },
    responses: {
      201: jsonAnswer('The category', CategorySchema),
      ...errors(401, 403, 409, 422),
    },
  })
  const updateRoute = createRoute({
    method: 'put',
    path: '/{code}',
    tags,
    summary: 'Change labels, sensitivity or the `active` flag of a category (administrators)',
    description:
      'The code is immutable: cases and SLA policies refer to it. A category is never deleted; ' +
      'set `active: false` to stop offering it for new cases. Omitted fields keep their value.',
    middleware,
    request: {
      params: CodeParam,
      headers: IdempotencyHeader,
      body: jsonBody(CategoryUpdateSchema),
    },
    responses: {
      200: jsonAnswer('The category', CategorySchema),
      ...errors(401, 403, 404, 422),
    },
  })
  return { create, update: updateRoute }
}

const dto = (row: Selectable<CategoriesTable>) => ({ id: row.code, ...row })

/**
 * Categories (DESIGN §1, §4): readable by every signed-in user (the console's pick lists);
 * created and edited by administrators. The code is immutable and a category is deactivated,
 * never deleted, because cases and SLA policies refer to it.
 */
export function categoriesRoutes({ db }: { db: Db }) {
  const write = writeRoutes(db)
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(categoryList, c.req.query())
      let query = db.selectFrom('categories')
      if (filter.id !== undefined) query = query.where('code', 'in', asArray(filter.id))
      if (filter.caseKind !== undefined)
        query = query.where('caseKind', 'in', asArray(filter.caseKind))
      if (filter.sensitive !== undefined) query = query.where('sensitive', '=', filter.sensitive)
      if (filter.active !== undefined) query = query.where('active', '=', filter.active)
      if (filter.q !== undefined) {
        const q = filter.q
        query = query.where((eb) =>
          eb.or([
            eb('code', 'ilike', startsWith(q)),
            eb('labelFr', 'ilike', contains(q)),
            eb('labelEn', 'ilike', contains(q)),
          ]),
        )
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .selectAll()
        .orderBy(sql.ref(`categories.${sort.field}`), sort.order === 'ASC' ? 'asc' : 'desc')
        .orderBy('code')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'categories', offset, rows.length, Number(total))
      return c.json(rows.map(dto), 200)
    })
    .openapi(getRoute, async (c) => {
      const row = await db
        .selectFrom('categories')
        .selectAll()
        .where('code', '=', c.req.valid('param').code)
        .executeTakeFirst()
      if (!row) throw notFound('Category')
      return c.json(dto(row), 200)
    })
    .openapi(write.create, async (c) => {
      const body = c.req.valid('json')
      const row = await uniquely(`A category ${body.code} already exists`, () =>
        db.insertInto('categories').values(body).returningAll().executeTakeFirstOrThrow(),
      )
      return c.json(dto(row), 201)
    })
    .openapi(write.update, async (c) => {
      const code = c.req.valid('param').code
      const { id, code: sentCode, ...changes } = c.req.valid('json')
      unchanged('id', id, code)
      unchanged('code', sentCode, code)
      const row = Object.keys(changes).length
        ? await db
            .updateTable('categories')
            .set(changes)
            .where('code', '=', code)
            .returningAll()
            .executeTakeFirst()
        : await db.selectFrom('categories').selectAll().where('code', '=', code).executeTakeFirst()
      if (!row) throw notFound('Category')
      return c.json(dto(row), 200)
    })
}
