import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { hash, verify } from '@node-rs/argon2'
import type { Client } from '@temporalio/client'
import type { Context } from 'hono'
import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import { categoryCodes } from '../../workflows/forms'
import { clientAddress, createRateLimiter } from '../auth/throttle'
import { registerGrievance } from '../cases/intake'
import { ARGON2ID } from '../cases/tracking'
import { ApiError } from '../errors'
import { ErrorSchema } from '../openapi'

/** Verified when the reference is unknown, so that both answers take the same time. */
let decoy: Promise<string> | undefined
const decoyHash = () => (decoy ??= hash('decoy-pin', { algorithm: ARGON2ID }))

/** Wrong PINs allowed per reference before it is locked for a while (a PIN has 10^6 values). */
const MAX_PIN_FAILURES = 5
const PIN_LOCK_MS = 15 * 60_000

const Locale = z.enum(['fr', 'en'])

const SubmitBody = z
  .object({
    communeCode: z.string().regex(/^ML(-[A-Z0-9-]+)?$/, 'a commune code such as ML-2-KATI-KATI'),
    category: z.enum(categoryCodes).optional(),
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
    locale: Locale.default('fr'),
  })
  .openapi('GrievanceSubmission')

const Receipt = z
  .object({
    reference: z.string(),
    pin: z.string().describe('Shown once: keep it to follow the grievance'),
    message: z.string(),
  })
  .openapi('GrievanceReceipt')

const PublicOptions = z
  .object({
    communes: z.array(
      z.object({ code: z.string(), name: z.string(), cercle: z.string(), region: z.string() }),
    ),
    categories: z.array(
      z.object({ code: z.enum(categoryCodes), labelFr: z.string(), labelEn: z.string() }),
    ),
  })
  .openapi('PublicOptions')

/** How long the public form's lists are kept, in this process and in browsers and proxies. */
const OPTIONS_TTL_MS = 5 * 60_000

const TrackBody = z.object({
  reference: z.string().trim().toUpperCase().max(40),
  pin: z.string().regex(/^\d{6}$/),
  locale: Locale.default('fr'),
})

const Progress = z
  .object({
    reference: z.string(),
    status: z.enum(['received', 'in_progress', 'resolved', 'closed']),
    message: z.string(),
    submittedAt: z.string(),
    updatedAt: z.string().nullable(),
  })
  .openapi('GrievanceProgress')

const text = {
  received: {
    fr: 'Votre plainte a été enregistrée. Conservez la référence et le code PIN : le code ne sera plus affiché.',
    en: 'Your grievance has been registered. Keep the reference and the PIN: the PIN will not be shown again.',
  },
  status: {
    received: {
      fr: 'Votre plainte a été reçue et sera examinée.',
      en: 'Your grievance has been received and will be reviewed.',
    },
    in_progress: {
      fr: 'Votre plainte est en cours de traitement.',
      en: 'Your grievance is being handled.',
    },
    resolved: {
      fr: 'Une décision a été prise sur votre plainte. Vous pouvez faire recours dans le délai indiqué.',
      en: 'A decision has been taken on your grievance. You may appeal within the stated period.',
    },
    closed: {
      fr: 'Le traitement de votre plainte est terminé.',
      en: 'The handling of your grievance is complete.',
    },
  },
} as const

/** Reference alphabet without look-alikes (0/O, 1/I), easy to read out on a hotline. */
/**
 * A small in-memory limiter per client address, for the public routes: the address is used only
 * for counting in this process and is never stored or logged (anonymous complainants leave no
 * address behind).
 */
function limiter(max: number, windowMs: number) {
  const counter = createRateLimiter({ limit: max, windowMs, now: () => new Date() })
  return (c: Context) => {
    const verdict = counter.hit(clientAddress(c))
    if (!verdict.allowed) {
      c.header('Retry-After', String(verdict.retryAfterSeconds))
      throw new ApiError(429, 'TOO_MANY_REQUESTS', 'Too many requests: try again later')
    }
  }
}

/**
 * The public face: submit a grievance without an account (anonymous allowed), get a reference and
 * a PIN shown once, and follow it with both, in plain French or English, with nothing sensitive.
 */
export function publicRoutes(deps: {
  db: Db
  temporal: Client
  taskQueue: string
  limits?: { submit: number; track: number; windowMs: number }
}) {
  const limits = deps.limits ?? { submit: 10, track: 30, windowMs: 60 * 60_000 }
  const submitLimit = limiter(limits.submit, limits.windowMs)
  const trackLimit = limiter(limits.track, limits.windowMs)
  let cachedOptions: { at: number; value: Promise<z.infer<typeof PublicOptions>> } | undefined
  const loadOptions = async (): Promise<z.infer<typeof PublicOptions>> => {
    const communes = await deps.db
      .selectFrom('adminAreas as commune')
      .innerJoin('adminAreas as cercle', 'cercle.code', 'commune.parentCode')
      .innerJoin('adminAreas as region', 'region.code', 'cercle.parentCode')
      .select(['commune.code', 'commune.name', 'cercle.name as cercle', 'region.name as region'])
      .where('commune.level', '=', 'commune')
      .orderBy('region.name')
      .orderBy('cercle.name')
      .orderBy('commune.name')
      .execute()
    const categories = await deps.db
      .selectFrom('categories')
      .select(['code', 'labelFr', 'labelEn'])
      .where('caseKind', '=', 'grievance')
      .where('active', '=', true)
      .where('code', 'in', categoryCodes)
      .orderBy('labelFr')
      .execute()
    return {
      communes,
      categories: categories.map((c) => ({ ...c, code: c.code as (typeof categoryCodes)[number] })),
    }
  }

  const submit = createRoute({
    method: 'post',
    path: '/grievances',
    tags: ['public'],
    summary: 'Submit a grievance (no account needed; anonymous allowed)',
    request: { body: { content: { 'application/json': { schema: SubmitBody } }, required: true } },
    responses: {
      201: { description: 'Registered', content: { 'application/json': { schema: Receipt } } },
      400: { description: 'Invalid', content: { 'application/json': { schema: ErrorSchema } } },
      429: { description: 'Too many', content: { 'application/json': { schema: ErrorSchema } } },
    },
  })
  const track = createRoute({
    method: 'post',
    path: '/track',
    tags: ['public'],
    summary: 'Follow a grievance with its reference and PIN',
    request: { body: { content: { 'application/json': { schema: TrackBody } }, required: true } },
    responses: {
      200: { description: 'Progress', content: { 'application/json': { schema: Progress } } },
      404: { description: 'Unknown', content: { 'application/json': { schema: ErrorSchema } } },
      429: { description: 'Too many', content: { 'application/json': { schema: ErrorSchema } } },
    },
  })

  const options = createRoute({
    method: 'get',
    path: '/options',
    tags: ['public'],
    summary: 'The communes and categories offered by the public form (reference data only)',
    responses: {
      200: { description: 'Lists', content: { 'application/json': { schema: PublicOptions } } },
    },
  })

  return new OpenAPIHono({
    defaultHook: (result) => {
      if (!result.success) {
        throw new ApiError(
          400,
          'VALIDATION_FAILED',
          'Some fields are invalid',
          result.error.issues.map((i) => ({ path: i.path.join('.'), message: i.message })),
        )
      }
    },
  })
    .openapi(options, async (c) => {
      // Reference data, the same for everyone: cached here and by browsers and proxies, so that a
      // crowd of phones opening the form costs one query every few minutes.
      if (!cachedOptions || Date.now() - cachedOptions.at > OPTIONS_TTL_MS) {
        const value = loadOptions()
        cachedOptions = { at: Date.now(), value }
        void value.catch(() => (cachedOptions = undefined))
      }
      const value = await cachedOptions.value
      c.header('Cache-Control', `public, max-age=${OPTIONS_TTL_MS / 1000}`)
      return c.json(value, 200)
    })
    .openapi(submit, async (c) => {
      submitLimit(c)
      const body = c.req.valid('json')
      const { reference, pin } = await registerGrievance(deps, {
        ...body,
        channel: 'web',
        openedBy: { userId: null, role: 'public' },
      })
      return c.json({ reference, pin, message: text.received[body.locale] }, 201)
    })
    .openapi(track, async (c) => {
      trackLimit(c)
      const { reference, pin, locale } = c.req.valid('json')
      const unknown = new ApiError(404, 'NOT_FOUND', 'No grievance with this reference and PIN')
      const row = await deps.db
        .selectFrom('caseTracking')
        .select(['caseId', 'createdAt'])
        .where('reference', '=', reference)
        .executeTakeFirst()
      // Unknown reference and wrong PIN answer the same.
      if (!row) {
        await verify(await decoyHash(), pin)
        throw unknown
      }
      // The attempt is counted BEFORE the PIN is checked, in one statement that also refuses it
      // while the reference is locked: 30 guesses sent at once are 30 increments of the same
      // row, so at most MAX_PIN_FAILURES of them are ever checked (a read-then-write let every
      // concurrent guess through and never locked). The one that reaches the limit locks.
      const at = new Date()
      const { rows } = await sql<{ pinHash: string; locked: boolean }>`
        update case_tracking set
          failed_attempts = case when failed_attempts + 1 >= ${MAX_PIN_FAILURES} then 0
            else failed_attempts + 1 end,
          locked_until = case when failed_attempts + 1 >= ${MAX_PIN_FAILURES}
            then ${new Date(at.getTime() + PIN_LOCK_MS)}::timestamptz else null end
        where reference = ${reference} and (locked_until is null or locked_until <= ${at})
        returning pin_hash as "pinHash", locked_until is not null as "locked"`.execute(deps.db)
      const claim = rows[0]
      if (!claim) {
        const lock = await deps.db
          .selectFrom('caseTracking')
          .select('lockedUntil')
          .where('reference', '=', reference)
          .executeTakeFirst()
        const until = lock?.lockedUntil?.getTime() ?? at.getTime() + PIN_LOCK_MS
        c.header('Retry-After', String(Math.max(1, Math.ceil((until - Date.now()) / 1000))))
        throw new ApiError(429, 'TOO_MANY_REQUESTS', 'Too many wrong PINs: try again later')
      }
      if (!(await verify(claim.pinHash, pin))) throw unknown
      // The right PIN: the attempt did not fail, and the count of consecutive failures restarts
      // (a lock this very attempt set is lifted; one set by another attempt stays).
      await deps.db
        .updateTable('caseTracking')
        .set({ failedAttempts: 0, ...(claim.locked ? { lockedUntil: null } : {}) })
        .where('reference', '=', reference)
        .execute()
      const kase = await deps.db
        .selectFrom('cases')
        .select(['stage', 'status', 'updatedAt'])
        .where('id', '=', row.caseId)
        .executeTakeFirst()
      const status: keyof typeof text.status = !kase
        ? 'received'
        : kase.status === 'closed'
          ? 'closed'
          : kase.stage === 'appeal_window' || kase.stage === 'outcome'
            ? 'resolved'
            : kase.stage === 'uptake' || kase.stage === 'triage'
              ? 'received'
              : 'in_progress'
      return c.json(
        {
          reference,
          status,
          message: text.status[status][locale],
          submittedAt: row.createdAt.toISOString(),
          updatedAt: kase ? kase.updatedAt.toISOString() : null,
        },
        200,
      )
    })
}
