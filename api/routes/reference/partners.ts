import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { sql, type Selectable } from 'kysely'
import type { Db } from '../../../activities/db/db'
import type { PartnersTable } from '../../../activities/db/schema'
import { within } from '../../access'
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
  areaCode,
  asArray,
  contains,
  errors,
  IdempotencyHeader,
  invalid,
  jsonAnswer,
  jsonBody,
  notFound,
  pathParam,
  referenceCode,
  requireRole,
  startsWith,
  unchanged,
  uniquely,
  knownCode,
  text,
} from './shared'

const kinds = ['government', 'un_agency', 'ngo', 'health', 'other'] as const

export const ServiceSchema = z
  .object({ id: z.string(), code: z.string(), labelFr: z.string(), labelEn: z.string() })
  .openapi('Service')

export const PartnerSchema = z
  .object({
    id: z.string(),
    code: z.string(),
    name: z.string(),
    kind: z.enum(kinds),
    contactEmail: z.string().nullable(),
    /** An inactive partner receives no new referrals. */
    active: z.boolean(),
  })
  .openapi('Partner')

const OfferSchema = z
  .object({
    serviceCode: z.string(),
    labelFr: z.string(),
    labelEn: z.string(),
    /** The partner delivers the service in this area and every area below it. */
    areaCode: z.string(),
    areaName: z.string(),
    /** Coverage order: referrals go to the partner with the lowest priority first. */
    priority: z.number().int(),
  })
  .openapi('PartnerService')

const PartnerDetailSchema = PartnerSchema.extend({ services: z.array(OfferSchema) }).openapi(
  'PartnerDetail',
)

const ServiceDetailSchema = ServiceSchema.extend({
  partners: z.array(
    z.object({ partnerCode: z.string(), partnerName: z.string(), areaCode: z.string() }),
  ),
}).openapi('ServiceDetail')

const OfferInput = z.object({
  serviceCode: knownCode,
  areaCode,
  /** Coverage order of referrals (lowest first); 100 unless given. */
  priority: z.number().int().min(1).max(1000).default(100),
})
const partnerFields = {
  name: text(200),
  kind: z.enum(kinds),
  contactEmail: z.email().max(254).nullable(),
  active: z.boolean(),
  /** Replaces the partner's catalogue when given. */
  services: z.array(OfferInput).max(500),
}
const PartnerCreateSchema = z
  .object({
    code: referenceCode,
    name: partnerFields.name,
    kind: partnerFields.kind,
    contactEmail: partnerFields.contactEmail.default(null),
    active: partnerFields.active.default(true),
    services: partnerFields.services.default([]),
  })
  .openapi('PartnerCreate')
const PartnerUpdateSchema = z
  .object({
    id: z.string().optional(),
    code: z.string().optional(),
    name: partnerFields.name.optional(),
    kind: partnerFields.kind.optional(),
    contactEmail: partnerFields.contactEmail.optional(),
    active: partnerFields.active.optional(),
    services: partnerFields.services.optional(),
  })
  .openapi('PartnerUpdate')

const partnerList = {
  resource: 'partners',
  sortable: ['code', 'name', 'kind', 'active'],
  defaultSort: { field: 'name', order: 'ASC' },
  filters: {
    id: oneOrMany(z.string().max(40)),
    kind: oneOrMany(z.enum(kinds)),
    active: z.boolean(),
    /** Partners offering this service (in `servesArea` when given). */
    serviceCode: knownCode,
    /** Partners delivering a service in this area (their area is it or one above it). */
    servesArea: areaCode,
    q: z.string().min(1).max(64),
  },
} satisfies ListSpec<z.ZodRawShape>

const serviceList = {
  resource: 'services',
  sortable: ['code', 'labelFr', 'labelEn'],
  defaultSort: { field: 'code', order: 'ASC' },
  filters: { id: oneOrMany(z.string().max(40)), q: z.string().min(1).max(64) },
} satisfies ListSpec<z.ZodRawShape>

const CodeParam = pathParam('code', 'pam')

const partnerRoutes = {
  list: createRoute({
    method: 'get',
    path: '/',
    tags: ['partners'],
    summary: 'Partner organisations of the integrated protection package',
    request: { query: listQuerySchema },
    responses: {
      200: jsonAnswer('A page of partners; `Content-Range`', z.array(PartnerSchema)),
      ...errors(400, 401),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{code}',
    tags: ['partners'],
    summary: 'A partner with the services it delivers, by area',
    request: { params: CodeParam },
    responses: { 200: jsonAnswer('The partner', PartnerDetailSchema), ...errors(401, 404) },
  }),
}

function partnerWriteRoutes(db: Db) {
  const write = {
    middleware: [requireRole('administrator'), idempotency({ db })],
    tags: ['partners'],
  }
  return {
    create: createRoute({
      ...write,
      method: 'post',
      path: '/',
      summary: 'Add a partner and its services by area (administrators)',
      request: { headers: IdempotencyHeader, body: jsonBody(PartnerCreateSchema) },
      responses: {
        201: jsonAnswer('The partner', PartnerDetailSchema),
        ...errors(401, 403, 409, 422),
      },
    }),
    update: createRoute({
      ...write,
      method: 'put',
      path: '/{code}',
      summary: 'Change a partner (administrators); omitted fields keep their value',
      description:
        'The code is immutable (referrals refer to it); a partner is deactivated, never deleted. ' +
        '`services`, when given, replaces its whole catalogue.',
      request: {
        params: CodeParam,
        headers: IdempotencyHeader,
        body: jsonBody(PartnerUpdateSchema),
      },
      responses: {
        200: jsonAnswer('The partner', PartnerDetailSchema),
        ...errors(401, 403, 404, 422),
      },
    }),
  }
}

const serviceRoutes = {
  list: createRoute({
    method: 'get',
    path: '/',
    tags: ['services'],
    summary: 'Services of the integrated protection package',
    request: { query: listQuerySchema },
    responses: {
      200: jsonAnswer('A page of services; `Content-Range`', z.array(ServiceSchema)),
      ...errors(400, 401),
    },
  }),
  get: createRoute({
    method: 'get',
    path: '/{code}',
    tags: ['services'],
    summary: 'A service with the partners delivering it, by area',
    request: { params: CodeParam },
    responses: { 200: jsonAnswer('The service', ServiceDetailSchema), ...errors(401, 404) },
  }),
}

const partnerDto = (row: Selectable<PartnersTable>) => ({ id: row.code, ...row })

/**
 * Partners (DESIGN §4, referral): the organisations a household is referred to, readable by every
 * signed-in user (partner users included: the catalogue is not secret); administrators add them,
 * change them and set the services they deliver by area. The code is immutable and a partner is
 * deactivated rather than deleted, since referrals refer to it.
 */
export function partnersRoutes({ db }: { db: Db }) {
  const write = partnerWriteRoutes(db)

  const detail = async (code: string) => {
    const row = await db
      .selectFrom('partners')
      .selectAll()
      .where('code', '=', code)
      .executeTakeFirst()
    if (!row) return undefined
    const services = await db
      .selectFrom('partnerServices as ps')
      .innerJoin('services as s', 's.code', 'ps.serviceCode')
      .innerJoin('adminAreas as a', 'a.code', 'ps.areaCode')
      .select([
        'ps.serviceCode',
        's.labelFr',
        's.labelEn',
        'ps.areaCode',
        'a.name as areaName',
        'ps.priority',
      ])
      .where('ps.partnerCode', '=', code)
      .orderBy('ps.serviceCode')
      .orderBy('ps.areaCode')
      .execute()
    return { ...partnerDto(row), services }
  }

  /** Every offer's service and area must exist; the first faulty one is named. */
  const checkOffers = async (offers: { serviceCode: string; areaCode: string }[]) => {
    if (!offers.length) return
    const services = new Set(
      (
        await db
          .selectFrom('services')
          .select('code')
          .where('code', 'in', [...new Set(offers.map((o) => o.serviceCode))])
          .execute()
      ).map((s) => s.code),
    )
    const areas = new Set(
      (
        await db
          .selectFrom('adminAreas')
          .select('code')
          .where('code', 'in', [...new Set(offers.map((o) => o.areaCode))])
          .execute()
      ).map((a) => a.code),
    )
    offers.forEach((o, i) => {
      if (!services.has(o.serviceCode))
        throw invalid(`services.${i}.serviceCode`, 'no such service')
      if (!areas.has(o.areaCode)) throw invalid(`services.${i}.areaCode`, 'no such area')
    })
  }
  const uniqueOffers = (
    code: string,
    offers: { serviceCode: string; areaCode: string; priority: number }[],
  ) => [
    ...new Map(
      offers.map((o) => [
        `${o.serviceCode} ${o.areaCode}`,
        {
          partnerCode: code,
          serviceCode: o.serviceCode,
          areaCode: o.areaCode,
          priority: o.priority,
        },
      ]),
    ).values(),
  ]

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(partnerRoutes.list, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(partnerList, c.req.query())
      let query = db.selectFrom('partners')
      if (filter.id !== undefined) query = query.where('partners.code', 'in', asArray(filter.id))
      if (filter.kind !== undefined)
        query = query.where('partners.kind', 'in', asArray(filter.kind))
      if (filter.active !== undefined) query = query.where('partners.active', '=', filter.active)
      if (filter.serviceCode !== undefined || filter.servesArea !== undefined) {
        const { serviceCode, servesArea } = filter
        query = query.where((eb) => {
          let offer = eb
            .selectFrom('partnerServices as ps')
            .select(sql`1`.as('one'))
            .whereRef('ps.partnerCode', '=', 'partners.code')
          if (serviceCode !== undefined) offer = offer.where('ps.serviceCode', '=', serviceCode)
          if (servesArea !== undefined) {
            // The requested area lies within the area where the partner delivers the service.
            offer = offer
              .innerJoin('adminAreas as pa', 'pa.code', 'ps.areaCode')
              .innerJoin('adminAreas as t', (join) => join.on('t.code', '=', servesArea))
              .where(within('t', 'pa'))
          }
          return eb.exists(offer)
        })
      }
      if (filter.q !== undefined) {
        const q = filter.q
        query = query.where((eb) =>
          eb.or([
            eb('partners.code', 'ilike', startsWith(q)),
            eb('partners.name', 'ilike', contains(q)),
          ]),
        )
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .selectAll('partners')
        .orderBy(sql.ref(`partners.${sort.field}`), sort.order === 'ASC' ? 'asc' : 'desc')
        .orderBy('partners.code')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'partners', offset, rows.length, Number(total))
      return c.json(rows.map(partnerDto), 200)
    })
    .openapi(partnerRoutes.get, async (c) => {
      const partner = await detail(c.req.valid('param').code)
      if (!partner) throw notFound('Partner')
      return c.json(partner, 200)
    })
    .openapi(write.create, async (c) => {
      const { services, ...body } = c.req.valid('json')
      await checkOffers(services)
      await uniquely(`A partner ${body.code} already exists`, () =>
        db.transaction().execute(async (trx) => {
          await trx.insertInto('partners').values(body).execute()
          const offers = uniqueOffers(body.code, services)
          if (offers.length) await trx.insertInto('partnerServices').values(offers).execute()
        }),
      )
      return c.json((await detail(body.code))!, 201)
    })
    .openapi(write.update, async (c) => {
      const code = c.req.valid('param').code
      const { id, code: sentCode, services, ...changes } = c.req.valid('json')
      unchanged('id', id, code)
      unchanged('code', sentCode, code)
      const exists = await db
        .selectFrom('partners')
        .select('code')
        .where('code', '=', code)
        .executeTakeFirst()
      if (!exists) throw notFound('Partner')
      if (services) await checkOffers(services)
      await db.transaction().execute(async (trx) => {
        if (Object.keys(changes).length) {
          await trx.updateTable('partners').set(changes).where('code', '=', code).execute()
        }
        if (services) {
          await trx.deleteFrom('partnerServices').where('partnerCode', '=', code).execute()
          const offers = uniqueOffers(code, services)
          if (offers.length) await trx.insertInto('partnerServices').values(offers).execute()
        }
      })
      return c.json((await detail(code))!, 200)
    })
}

/**
 * Services (DESIGN §4): the catalogue of the integrated protection package, read-only for every
 * signed-in user; each service lists the partners delivering it and where. Partners' offers are
 * edited on the partner.
 */
export function servicesRoutes({ db }: { db: Db }) {
  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(serviceRoutes.list, async (c) => {
      const { sort, offset, limit, filter } = parseListQuery(serviceList, c.req.query())
      let query = db.selectFrom('services')
      if (filter.id !== undefined) query = query.where('code', 'in', asArray(filter.id))
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
        .orderBy(sql.ref(`services.${sort.field}`), sort.order === 'ASC' ? 'asc' : 'desc')
        .orderBy('code')
        .offset(offset)
        .limit(limit)
        .execute()
      setContentRange(c, 'services', offset, rows.length, Number(total))
      return c.json(
        rows.map((s) => ({ id: s.code, ...s })),
        200,
      )
    })
    .openapi(serviceRoutes.get, async (c) => {
      const code = c.req.valid('param').code
      const row = await db
        .selectFrom('services')
        .selectAll()
        .where('code', '=', code)
        .executeTakeFirst()
      if (!row) throw notFound('Service')
      const partners = await db
        .selectFrom('partnerServices as ps')
        .innerJoin('partners as p', 'p.code', 'ps.partnerCode')
        .select(['ps.partnerCode', 'p.name as partnerName', 'ps.areaCode'])
        .where('ps.serviceCode', '=', code)
        .orderBy('p.name')
        .orderBy('ps.areaCode')
        .execute()
      return c.json({ id: row.code, ...row, partners }, 200)
    })
}
