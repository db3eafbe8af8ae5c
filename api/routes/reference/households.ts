import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { getRouteFor } from '../../openapi'
import { sql } from 'kysely'
import type { Db } from '../../../activities/db/db'
import { areasWithin, caseAreas } from '../../access'
import type { AppEnv, AuthUser } from '../../auth/types'
import {
  listQuerySchema,
  oneOrMany,
  parseListQuery,
  setContentRange,
  validationHook,
  type ListSpec,
} from '../../lists'
import {
  areaCode,
  asArray,
  errors,
  iso,
  jsonAnswer,
  notFound,
  pathParam,
  startsWith,
  toIso,
} from './shared'

export const HouseholdSchema = z
  .object({
    /** The registry's household identifier. */
    id: z.string(),
    areaCode: z.string(),
    members: z.number().int(),
    /** Proxy means test score; lower is poorer. */
    pmtScore: z.number().nullable(),
    programmes: z.array(z.string()),
    /** When this copy was last fetched from the registry. */
    fetchedAt: iso,
  })
  .openapi('Household')

const householdList = {
  resource: 'households',
  sortable: ['id', 'areaCode', 'members', 'pmtScore', 'fetchedAt'],
  defaultSort: { field: 'id', order: 'ASC' },
  filters: {
    id: oneOrMany(z.string().max(64)),
    /** The area and every area below it. */
    areaCode,
    /** Households enrolled in this programme. */
    programme: z.string().min(1).max(64),
    /** Start of the household id. */
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags: ['households'],
  summary: "Registry households within the user's areas",
  description:
    'Case workers, supervisors and programme managers see the households of their areas and ' +
    'the areas below; administrators and partners see none.',
  request: { query: listQuerySchema },
  responses: {
    200: jsonAnswer('A page of households; `Content-Range`', z.array(HouseholdSchema)),
    ...errors(400, 401),
  },
})
const getRoute = getRouteFor(
  'households',
  'A household (404 when outside your areas, as for one that does not exist)',
  pathParam('id', 'RSU-0000003'),
  HouseholdSchema,
  'The household',
)

const columns = [
  'households.id',
  'households.areaCode',
  'households.members',
  'households.pmtScore',
  'households.programmes',
  'households.fetchedAt',
] as const
const dto = (h: {
  id: string
  areaCode: string
  members: number
  pmtScore: string | null
  programmes: string[]
  fetchedAt: Date
}) => ({
  ...h,
  pmtScore: h.pmtScore === null ? null : Number(h.pmtScore),
  fetchedAt: toIso(h.fetchedAt),
})

/**
 * Households (DESIGN §1, §5): the local copy of registry households, read by case workers,
 * supervisors and programme managers within the areas where they hold their role (and below),
 * decided in the query on `admin_areas.path`. Administrators and partners see none: the default
 * is deny. A household outside the user's areas answers 404, like one that does not exist.
 */
export function householdsRoutes({ db }: { db: Db }) {
  const visible = (user: AuthUser) => {
    const areas = caseAreas(user)
    const query = db.selectFrom('households')
    // Default deny: no case-seeing role anywhere, no household.
    return areas.length
      ? query.where('households.areaCode', 'in', areasWithin(db, areas))
      : query.where(sql<boolean>`false`)
  }

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(householdList, c.req.query())
      let query = visible(c.get('user'))
      if (filter.id !== undefined) query = query.where('households.id', 'in', asArray(filter.id))
      if (filter.areaCode !== undefined)
        query = query.where('households.areaCode', 'in', areasWithin(db, [filter.areaCode]))
      if (filter.programme !== undefined)
        query = query.where(sql<boolean>`${filter.programme} = any(households.programmes)`)
      if (filter.q !== undefined) query = query.where('households.id', 'like', startsWith(filter.q))
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select(columns)
        .orderBy(sql.ref(`households.${sort.field}`), (ob) =>
          sort.order === 'ASC' ? ob.asc().nullsLast() : ob.desc().nullsLast(),
        )
        .orderBy('households.id')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'households', offset, rows.length, Number(total))
      return c.json(rows.map(dto), 200)
    })
    .openapi(getRoute, async (c) => {
      const row = await visible(c.get('user'))
        .select(columns)
        .where('households.id', '=', c.req.valid('param').id)
        .executeTakeFirst()
      if (!row) throw notFound('Household')
      return c.json(dto(row), 200)
    })
}
