import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { getRouteFor, listRouteFor } from '../../openapi'
import { sql } from 'kysely'
import type { Db } from '../../../activities/db/db'
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
  conflict,
  contains,
  errors,
  IdempotencyHeader,
  jsonAnswer,
  jsonBody,
  notFound,
  pathParam,
  requireRole,
  unchanged,
  uniquely,
  text,
} from './shared'

/** A real calendar day 'YYYY-MM-DD' (not 2026-02-30). */
const day = z
  .string()
  .regex(/^\d{4}-\d{2}-\d{2}$/, { message: 'expected YYYY-MM-DD' })
  .refine(
    (s) => {
      const d = new Date(`${s}T00:00:00Z`)
      return !Number.isNaN(d.getTime()) && d.toISOString().slice(0, 10) === s
    },
    { message: 'not a calendar date' },
  )
  .openapi({ example: '2026-09-22' })
const name = text(200)

export const HolidaySchema = z
  .object({
    /** The date, as react-admin's record id. */
    id: z.string(),
    date: z.string(),
    nameFr: z.string(),
    nameEn: z.string(),
    /** Lunar feasts move every year and are confirmed by an administrator. */
    lunar: z.boolean(),
  })
  .openapi('Holiday')

const HolidayCreateSchema = z
  .object({ date: day, nameFr: name, nameEn: name, lunar: z.boolean().default(false) })
  .openapi('HolidayCreate')

const HolidayUpdateSchema = z
  .object({
    id: z.string().optional(),
    /** A new date moves the holiday (a lunar feast confirmed on another day). */
    date: day.optional(),
    nameFr: name.optional(),
    nameEn: name.optional(),
    lunar: z.boolean().optional(),
  })
  .openapi('HolidayUpdate')

const holidayList = {
  resource: 'holidays',
  sortable: ['date', 'nameFr', 'nameEn', 'lunar'],
  defaultSort: { field: 'date', order: 'ASC' },
  filters: {
    id: oneOrMany(day),
    year: z.number().int().min(1900).max(2200),
    lunar: z.boolean(),
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const DateParam = pathParam('date', '2026-09-22')
const tags = ['holidays']
const calendarNote =
  'Holidays enter the business calendar a case snapshots when it opens: a change applies to ' +
  'cases opened afterwards.'

const listRoute = listRouteFor(
  'holidays',
  'Public holidays of the business calendar',
  listQuerySchema,
  HolidaySchema,
)
const getRoute = getRouteFor(
  'holidays',
  'A holiday',
  DateParam,
  HolidaySchema,
  'The holiday',
  '/{date}',
)

function writeRoutes(db: Db) {
  const middleware = [requireRole('administrator'), idempotency({ db })]
  const write = { middleware, tags, description: calendarNote }
  return {
    create: createRoute({
      ...write,
      method: 'post',
      path: '/',
      summary: 'Add a holiday (administrators); one per date',
      request: { headers: IdempotencyHeader, body: jsonBody(HolidayCreateSchema) },
      responses: { 201: jsonAnswer('The holiday', HolidaySchema), ...errors(401, 403, 409, 422) },
    }),
    update: createRoute({
      ...write,
      method: 'put',
      path: '/{date}',
      summary: 'Rename or move a holiday (administrators); omitted fields keep their value',
      request: {
        params: DateParam,
        headers: IdempotencyHeader,
        body: jsonBody(HolidayUpdateSchema),
      },
      responses: {
        200: jsonAnswer('The holiday', HolidaySchema),
        ...errors(401, 403, 404, 409, 422),
      },
    }),
    remove: createRoute({
      ...write,
      method: 'delete',
      path: '/{date}',
      summary: 'Remove a holiday (administrators)',
      request: { params: DateParam, headers: IdempotencyHeader },
      responses: {
        200: jsonAnswer('The removed holiday', HolidaySchema),
        ...errors(401, 403, 404),
      },
    }),
  }
}

// postgres.js reads a `date` as a JS Date at local midnight: the text form is the truth.
const dateText = sql<string>`to_char(holidays.date, 'YYYY-MM-DD')`
const returned = [dateText.as('date'), 'nameFr', 'nameEn', 'lunar'] as const
const dto = (row: { date: string; nameFr: string; nameEn: string; lunar: boolean }) => ({
  id: row.date,
  ...row,
})
const duplicate = (date: string) => `A holiday already exists on ${date}`

/**
 * Holidays (DESIGN §3): the public holidays of Mali the SLA clock skips, set per year because
 * lunar feasts move. Readable by every signed-in user; administrators add, rename, move and
 * remove them. One holiday per date (409 `CONFLICT` otherwise).
 */
export function holidaysRoutes({ db }: { db: Db }) {
  const write = writeRoutes(db)
  const find = (date: string) =>
    db.selectFrom('holidays').select(returned).where('date', '=', date).executeTakeFirst()
  const validDate = (s: string) => day.safeParse(s).success

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(holidayList, c.req.query())
      let query = db.selectFrom('holidays')
      if (filter.id !== undefined) query = query.where('date', 'in', asArray(filter.id))
      if (filter.year !== undefined) {
        // A range on the key, so the primary key index serves it.
        query = query
          .where('date', '>=', `${filter.year}-01-01`)
          .where('date', '<', `${filter.year + 1}-01-01`)
      }
      if (filter.lunar !== undefined) query = query.where('lunar', '=', filter.lunar)
      if (filter.q !== undefined) {
        const q = contains(filter.q)
        query = query.where((eb) => eb.or([eb('nameFr', 'ilike', q), eb('nameEn', 'ilike', q)]))
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select(returned)
        .orderBy(sql.ref(`holidays.${sort.field}`), sort.order === 'ASC' ? 'asc' : 'desc')
        .orderBy('holidays.date')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'holidays', offset, rows.length, Number(total))
      return c.json(rows.map(dto), 200)
    })
    .openapi(getRoute, async (c) => {
      const date = c.req.valid('param').date
      const row = validDate(date) ? await find(date) : undefined
      if (!row) throw notFound('Holiday')
      return c.json(dto(row), 200)
    })
    .openapi(write.create, async (c) => {
      const body = c.req.valid('json')
      // Checked first for a clear answer; the primary key still decides a race.
      if (await find(body.date)) throw conflict(duplicate(body.date))
      const row = await uniquely(duplicate(body.date), () =>
        db.insertInto('holidays').values(body).returning(returned).executeTakeFirstOrThrow(),
      )
      return c.json(dto(row), 201)
    })
    .openapi(write.update, async (c) => {
      const date = c.req.valid('param').date
      const { id, ...changes } = c.req.valid('json')
      unchanged('id', id, date)
      const current = validDate(date) ? await find(date) : undefined
      if (!current) throw notFound('Holiday')
      if (changes.date !== undefined && changes.date !== date && (await find(changes.date))) {
        throw conflict(duplicate(changes.date))
      }
      const row = Object.keys(changes).length
        ? await uniquely(duplicate(changes.date ?? date), () =>
            db
              .updateTable('holidays')
              .set(changes)
              .where('date', '=', date)
              .returning(returned)
              .executeTakeFirst(),
          )
        : current
      if (!row) throw notFound('Holiday')
      return c.json(dto(row), 200)
    })
    .openapi(write.remove, async (c) => {
      const date = c.req.valid('param').date
      const row = validDate(date)
        ? await db
            .deleteFrom('holidays')
            .where('date', '=', date)
            .returning(returned)
            .executeTakeFirst()
        : undefined
      if (!row) throw notFound('Holiday')
      return c.json(dto(row), 200)
    })
}
