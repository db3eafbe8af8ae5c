import { OpenAPIHono, z } from '@hono/zod-openapi'
import { getRouteFor, listRouteFor } from '../../openapi'
import { sql } from 'kysely'
import type { Db } from '../../../activities/db/db'
import { areasWithin } from '../../access'
import type { AppEnv } from '../../auth/types'
import {
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  validationHook,
  type ListSpec,
} from '../../lists'
import { areaCode, asArray, contains, startsWith, notFound, pathParam } from './shared'

const levels = ['national', 'region', 'cercle', 'commune', 'village'] as const

export const AreaSchema = z
  .object({
    /** The code, as react-admin's record id. */
    id: z.string(),
    code: z.string(),
    parentCode: z.string().nullable(),
    level: z.enum(levels),
    name: z.string(),
  })
  .openapi('Area')

const areaList = {
  resource: 'areas',
  sortable: ['code', 'name', 'level', 'parentCode'],
  defaultSort: { field: 'code', order: 'ASC' },
  filters: {
    id: oneOrMany(areaCode),
    level: oneOrMany(z.enum(levels)),
    /** Children of an area; null for the national root. */
    parentCode: areaCode.nullable(),
    /** The area and every area below it. */
    within: areaCode,
    /** Part of the name, or the start of the code. */
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const levelRank = sql<number>`case admin_areas.level when 'national' then 0 when 'region' then 1 when 'cercle' then 2 when 'commune' then 3 else 4 end`

const listRoute = listRouteFor(
  'areas',
  'Administrative areas (region → cercle → commune → village)',
  listQuerySchema,
  AreaSchema,
)

const getRoute = getRouteFor(
  'areas',
  'An administrative area',
  pathParam('code', 'ML-2-KATI'),
  AreaSchema,
  'The area',
  '/{code}',
)

const columns = ['code', 'parentCode', 'level', 'name'] as const
const dto = (a: { code: string; parentCode: string | null; level: string; name: string }) => ({
  id: a.code,
  code: a.code,
  parentCode: a.parentCode,
  level: a.level as (typeof levels)[number],
  name: a.name,
})

/**
 * Areas (DESIGN §1): the geography every role, area and case refers to, readable by every
 * signed-in user. Administrators keep it through migrations and the seed: the API does not edit
 * it, since moving an area would silently move everyone's access with it.
 */
export function areasRoutes({ db }: { db: Db }) {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(areaList, c.req.query())
      let query = db.selectFrom('adminAreas')
      if (filter.id !== undefined) query = query.where('code', 'in', asArray(filter.id))
      if (filter.level !== undefined) query = query.where('level', 'in', asArray(filter.level))
      if (filter.parentCode !== undefined) {
        query =
          filter.parentCode === null
            ? query.where('parentCode', 'is', null)
            : query.where('parentCode', '=', filter.parentCode)
      }
      if (filter.within !== undefined) {
        query = query.where('code', 'in', areasWithin(db, [filter.within]))
      }
      if (filter.q !== undefined) {
        const q = filter.q
        query = query.where((eb) =>
          eb.or([eb('name', 'ilike', contains(q)), eb('code', 'ilike', startsWith(q))]),
        )
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select(columns)
        .orderBy(
          sort.field === 'level' ? levelRank : sql.ref(`admin_areas.${sort.field}`),
          sort.order === 'ASC' ? 'asc' : 'desc',
        )
        .orderBy('code')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'areas', offset, rows.length, Number(total))
      return c.json(rows.map(dto), 200)
    })
    .openapi(getRoute, async (c) => {
      const row = await db
        .selectFrom('adminAreas')
        .select(columns)
        .where('code', '=', c.req.valid('param').code)
        .executeTakeFirst()
      if (!row) throw notFound('Area')
      return c.json(dto(row), 200)
    })
}
