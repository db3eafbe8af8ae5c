import { createRoute, OpenAPIHono, z } from '@hono/zod-openapi'
import { sql } from 'kysely'
import type { Db } from '../../../activities/db/db'
import { areasWithin } from '../../access'
import { assertGrantAllowed, recordUserChange, userSnapshot, type Rights } from '../../auth/grants'
import { hashPassword, PASSWORD_MAX_LENGTH, passwordProblem } from '../../auth/passwords'
import { ApiError } from '../../errors'
import type { AppEnv, AuthUser } from '../../auth/types'
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
  areasOf,
  asArray,
  conflict,
  contains,
  errors,
  hasRole,
  IdempotencyHeader,
  invalid,
  iso,
  jsonAnswer,
  jsonBody,
  notFound,
  pathParam,
  requireRole,
  startsWith,
  toIso,
  unchanged,
  uniquely,
  text,
} from './shared'

const roleCodes = [
  'case_worker',
  'supervisor',
  'programme_manager',
  'administrator',
  'partner',
] as const
type Role = (typeof roleCodes)[number]

const RoleAssignmentSchema = z
  .object({ role: z.enum(roleCodes), areaCode })
  .openapi('RoleAssignment', { description: 'A role held in an area and every area below it' })

/** What administrators see. Never a password hash nor a TOTP secret. */
export const UserSchema = z
  .object({
    id: z.string(),
    username: z.string(),
    displayName: z.string(),
    email: z.string().nullable(),
    locale: z.enum(['fr', 'en']),
    languages: z.array(z.string()),
    sensitiveClearance: z.boolean(),
    canExport: z.boolean().openapi({ description: 'May export case rows and reports as CSV' }),
    canDecodePayloads: z
      .boolean()
      .openapi({ description: 'Temporal operator: the codec endpoint decodes payloads for them' }),
    onLeave: z.boolean(),
    active: z.boolean(),
    roles: z.array(RoleAssignmentSchema),
    createdAt: iso,
  })
  .openapi('User')

/** What a supervisor sees of the users of their areas: enough to reassign work, no contact. */
export const UserSummarySchema = z
  .object({
    id: z.string(),
    displayName: z.string(),
    /** Only the roles held within the supervisor's areas. */
    roles: z.array(RoleAssignmentSchema),
    onLeave: z.boolean(),
  })
  .openapi('UserSummary')

const username = z.string().regex(/^[A-Za-z0-9][A-Za-z0-9._-]{2,63}$/, {
  message: '3 to 64 letters, digits, ".", "_" or "-", starting with a letter or digit',
})
const fields = {
  displayName: text(200),
  email: z.email().max(254).nullable(),
  locale: z.enum(['fr', 'en']),
  languages: z
    .array(z.string().regex(/^[a-z]{2,3}$/, { message: 'an ISO 639 code such as fr or bm' }))
    .max(20),
  sensitiveClearance: z.boolean(),
  canExport: z.boolean(),
  canDecodePayloads: z.boolean(),
  onLeave: z.boolean(),
  active: z.boolean(),
  roles: z.array(RoleAssignmentSchema).max(100),
  /** Hashed with argon2id; never stored nor returned in clear. */
  password: z.string().max(PASSWORD_MAX_LENGTH),
}

const UserCreateSchema = z
  .object({
    username,
    displayName: fields.displayName,
    email: fields.email.default(null),
    locale: fields.locale.default('fr'),
    languages: fields.languages.default(['fr']),
    sensitiveClearance: fields.sensitiveClearance.default(false),
    canExport: fields.canExport.default(false),
    canDecodePayloads: fields.canDecodePayloads.default(false),
    onLeave: fields.onLeave.default(false),
    active: fields.active.default(true),
    roles: fields.roles.default([]),
    password: fields.password,
  })
  .openapi('UserCreate')

const UserUpdateSchema = z
  .object({
    id: z.string().optional(),
    username: username.optional(),
    displayName: fields.displayName.optional(),
    email: fields.email.optional(),
    locale: fields.locale.optional(),
    languages: fields.languages.optional(),
    sensitiveClearance: fields.sensitiveClearance.optional(),
    canExport: fields.canExport.optional(),
    canDecodePayloads: fields.canDecodePayloads.optional(),
    onLeave: fields.onLeave.optional(),
    active: fields.active.optional(),
    /** Replaces every role of the user when given. */
    roles: fields.roles.optional(),
    /** Sets a new password and ends the user's browser sessions. */
    password: fields.password.optional(),
  })
  .openapi('UserUpdate')

const uuid = z.string().regex(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i)
const commonFilters = {
  id: oneOrMany(uuid),
  /** Users holding this role (within `areaCode` when given). */
  role: oneOrMany(z.enum(roleCodes)),
  /** Users holding a role in this area or below. */
  areaCode,
  onLeave: z.boolean(),
  q: z.string().min(1).max(64),
}
const adminList = {
  resource: 'users',
  sortable: ['username', 'displayName', 'createdAt', 'active', 'onLeave'],
  defaultSort: { field: 'username', order: 'ASC' },
  filters: { ...commonFilters, active: z.boolean(), sensitiveClearance: z.boolean() },
} satisfies ListSpec<z.ZodRawShape>
const supervisorList = {
  resource: 'users',
  sortable: ['displayName'],
  defaultSort: { field: 'displayName', order: 'ASC' },
  filters: commonFilters,
} satisfies ListSpec<z.ZodRawShape>

const IdParam = pathParam('id', '00000000-0000-4000-8000-000000000000')
const tags = ['users']
const readers = requireRole('administrator', 'supervisor')
const AnyUser = z.union([UserSchema, UserSummarySchema])

const listRoute = createRoute({
  method: 'get',
  path: '/',
  tags,
  summary: 'Users: every field for administrators, a summary of their areas for supervisors',
  request: { query: listQuerySchema },
  middleware: readers,
  responses: {
    200: jsonAnswer('A page of users; `Content-Range`', z.array(AnyUser)),
    ...errors(400, 401, 403),
  },
})
const getRoute = createRoute({
  method: 'get',
  path: '/{id}',
  tags,
  summary: 'A user (a supervisor: only users holding a role within their areas)',
  request: { params: IdParam },
  middleware: readers,
  responses: { 200: jsonAnswer('The user', AnyUser), ...errors(401, 403, 404) },
})

function writeRoutes(db: Db) {
  const write = { middleware: [requireRole('administrator'), idempotency({ db })], tags }
  return {
    create: createRoute({
      ...write,
      method: 'post',
      path: '/',
      summary: 'Create a user with a password and roles in areas (administrators)',
      request: { headers: IdempotencyHeader, body: jsonBody(UserCreateSchema) },
      responses: { 201: jsonAnswer('The user', UserSchema), ...errors(401, 403, 409, 422) },
    }),
    update: createRoute({
      ...write,
      method: 'put',
      path: '/{id}',
      summary: 'Change a user (administrators); omitted fields keep their value',
      description:
        'Users are deactivated (`active: false`), never deleted: cases and audit refer to them. ' +
        'A new password or a deactivation ends the user’s browser sessions.',
      request: { params: IdParam, headers: IdempotencyHeader, body: jsonBody(UserUpdateSchema) },
      responses: { 200: jsonAnswer('The user', UserSchema), ...errors(401, 403, 404, 409, 422) },
    }),
  }
}

// Selected explicitly: password_hash and the TOTP columns never leave this module.
const publicColumns = [
  'users.id',
  'users.username',
  'users.displayName',
  'users.email',
  'users.locale',
  'users.languages',
  'users.sensitiveClearance',
  'users.canExport',
  'users.canDecodePayloads',
  'users.onLeave',
  'users.active',
  'users.createdAt',
] as const
const taken = (name: string) => `The username ${name} is taken`
const noRights: Rights = {
  roles: [],
  sensitiveClearance: false,
  canExport: false,
  canDecodePayloads: false,
}

/**
 * Users (DESIGN §1, §3): administrators list, read, create and change accounts (roles held in
 * areas, clearance for sensitive cases, leave, deactivation); passwords are set hashed with
 * argon2id and no hash or TOTP secret is ever answered. Supervisors read the users holding a
 * role within their areas, reduced to id, display name, those roles and leave, to reassign work;
 * a user outside their areas answers 404. Everyone else gets 403.
 */
export function usersRoutes({ db }: { db: Db }) {
  const write = writeRoutes(db)
  const adb = db

  /** Supervisor's view: areas where they supervise; administrators see everything (null). */
  const scopeOf = (user: AuthUser) =>
    hasRole(user, 'administrator') ? null : areasOf(user, 'supervisor')

  const rolesOf = async (ids: string[], scope: string[] | null) => {
    if (!ids.length) return new Map<string, { role: Role; areaCode: string }[]>()
    let query = db
      .selectFrom('userRoles')
      .select(['userId', 'roleCode', 'areaCode'])
      .where('userId', 'in', ids)
    if (scope) query = query.where('areaCode', 'in', areasWithin(db, scope))
    const rows = await query.orderBy('roleCode').orderBy('areaCode').execute()
    const byUser = new Map<string, { role: Role; areaCode: string }[]>()
    for (const r of rows) {
      const list = byUser.get(r.userId) ?? []
      list.push({ role: r.roleCode, areaCode: r.areaCode })
      byUser.set(r.userId, list)
    }
    return byUser
  }

  const base = (scope: string[] | null) => {
    let query = adb.selectFrom('users')
    if (scope) {
      // Decided in SQL: a role held within one of the supervisor's areas; active accounts only.
      query = query.where('users.active', '=', true).where((eb) =>
        eb.exists(
          eb
            .selectFrom('userRoles as ur')
            .select(sql`1`.as('one'))
            .whereRef('ur.userId', '=', 'users.id')
            .where('ur.areaCode', 'in', areasWithin(db, scope)),
        ),
      )
    }
    return query
  }

  type Row = {
    id: string
    username: string
    displayName: string
    email: string | null
    locale: 'fr' | 'en'
    languages: string[]
    sensitiveClearance: boolean
    canExport: boolean
    canDecodePayloads: boolean
    onLeave: boolean
    active: boolean
    createdAt: Date
  }
  const present = (
    rows: Row[],
    roles: Map<string, { role: Role; areaCode: string }[]>,
    scope: string[] | null,
  ) =>
    rows.map((u) =>
      scope
        ? { id: u.id, displayName: u.displayName, roles: roles.get(u.id) ?? [], onLeave: u.onLeave }
        : { ...u, createdAt: toIso(u.createdAt), roles: roles.get(u.id) ?? [] },
    )

  const loadFull = async (id: string) => {
    const row = await adb
      .selectFrom('users')
      .select(publicColumns)
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    const roles = await rolesOf([id], null)
    return { ...row, createdAt: toIso(row.createdAt), roles: roles.get(id) ?? [] }
  }

  /** Every role's area must exist; each faulty one is named. */
  const checkAreas = async (roles: { areaCode: string }[]) => {
    const codes = [...new Set(roles.map((r) => r.areaCode))]
    if (!codes.length) return
    const found = new Set(
      (await db.selectFrom('adminAreas').select('code').where('code', 'in', codes).execute()).map(
        (a) => a.code,
      ),
    )
    const index = roles.findIndex((r) => !found.has(r.areaCode))
    if (index >= 0) throw invalid(`roles.${index}.areaCode`, 'no such area')
  }
  const dedupe = (roles: { role: Role; areaCode: string }[]) => [
    ...new Map(roles.map((r) => [`${r.role} ${r.areaCode}`, r])).values(),
  ]
  const checkPassword = (name: string, password: string) => {
    const problem = passwordProblem(name, password)
    if (problem) throw invalid('password', problem)
  }
  const usernameTaken = async (name: string, except?: string) => {
    let query = db
      .selectFrom('users')
      .select('id')
      .where(sql<string>`lower(username)`, '=', name.toLowerCase())
    if (except) query = query.where('id', '<>', except)
    return (await query.executeTakeFirst()) !== undefined
  }
  const endSessions = (userId: string) =>
    sql`delete from sessions where user_id = ${userId}`.execute(db)

  return new OpenAPIHono<AppEnv>({ defaultHook: validationHook })
    .openapi(listRoute, async (c) => {
      const scope = scopeOf(c.get('user'))
      const { sort, offset, limit, filter } = scope
        ? parseListQuery(supervisorList, c.req.query())
        : parseListQuery(adminList, c.req.query())
      let query = base(scope)
      if (filter.id !== undefined) query = query.where('users.id', 'in', asArray(filter.id))
      if (filter.role !== undefined || filter.areaCode !== undefined) {
        const { role, areaCode: area } = filter
        query = query.where((eb) => {
          let held = eb
            .selectFrom('userRoles as fr')
            .select(sql`1`.as('one'))
            .whereRef('fr.userId', '=', 'users.id')
          if (role !== undefined) held = held.where('fr.roleCode', 'in', asArray(role))
          if (area !== undefined) held = held.where('fr.areaCode', 'in', areasWithin(db, [area]))
          return eb.exists(held)
        })
      }
      if (filter.onLeave !== undefined) query = query.where('users.onLeave', '=', filter.onLeave)
      // Only the administrators' list accepts these two (parseListQuery refused them otherwise).
      const { active, sensitiveClearance } = filter as {
        active?: boolean
        sensitiveClearance?: boolean
      }
      if (active !== undefined) query = query.where('users.active', '=', active)
      if (sensitiveClearance !== undefined)
        query = query.where('users.sensitiveClearance', '=', sensitiveClearance)
      if (filter.q !== undefined) {
        const q = filter.q
        // A supervisor searches by display name only: usernames are not theirs to see.
        query = query.where((eb) =>
          scope
            ? eb('users.displayName', 'ilike', contains(q))
            : eb.or([
                eb('users.username', 'ilike', startsWith(q)),
                eb('users.displayName', 'ilike', contains(q)),
                eb('users.email', 'ilike', startsWith(q)),
              ]),
        )
      }
      const { total } = await query
        .select((eb) => eb.fn.countAll<string>().as('total'))
        .executeTakeFirstOrThrow()
      const rows = await query
        .select(publicColumns)
        .orderBy(sql.ref(`users.${sort.field}`), sort.order === 'ASC' ? 'asc' : 'desc')
        .orderBy('users.id')
        .offset(offset)
        .limit(limit)
        .execute()
      const roles = await rolesOf(
        rows.map((r) => r.id),
        scope,
      )
      setContentRange(c, 'users', offset, rows.length, Number(total))
      return c.json(present(rows, roles, scope), 200)
    })
    .openapi(getRoute, async (c) => {
      const scope = scopeOf(c.get('user'))
      const id = c.req.valid('param').id
      const row = uuid.safeParse(id).success
        ? await base(scope).select(publicColumns).where('users.id', '=', id).executeTakeFirst()
        : undefined
      if (!row) throw notFound('User')
      const [user] = present([row], await rolesOf([id], scope), scope)
      return c.json(user!, 200)
    })
    .openapi(write.create, async (c) => {
      const me = c.get('user')
      const { password, roles, ...body } = c.req.valid('json')
      checkPassword(body.username, password)
      await checkAreas(roles)
      const held = dedupe(roles)
      await assertGrantAllowed(db, me, null, noRights, {
        roles: held,
        sensitiveClearance: body.sensitiveClearance,
        canExport: body.canExport,
        canDecodePayloads: body.canDecodePayloads,
      })
      if (await usernameTaken(body.username)) throw conflict(taken(body.username))
      const passwordHash = await hashPassword(password)
      const id = await uniquely(taken(body.username), () =>
        db.transaction().execute(async (trx) => {
          const { id } = await trx
            .insertInto('users')
            .values({ ...body, passwordHash, totpSecret: null })
            .returning('id')
            .executeTakeFirstOrThrow()
          if (held.length) {
            await trx
              .insertInto('userRoles')
              .values(held.map((r) => ({ userId: id, roleCode: r.role, areaCode: r.areaCode })))
              .execute()
          }
          await recordUserChange(trx, {
            actorUserId: me.id,
            subjectUserId: id,
            action: 'user_created',
            before: null,
            after: (await userSnapshot(trx, id))!,
          })
          return id
        }),
      )
      return c.json(await loadFull(id), 201)
    })
    .openapi(write.update, async (c) => {
      const me = c.get('user')
      const id = c.req.valid('param').id
      const { id: sentId, password, roles, ...changes } = c.req.valid('json')
      const current = uuid.safeParse(id).success
        ? await adb
            .selectFrom('users')
            .select(['id', 'username', 'sensitiveClearance', 'canExport', 'canDecodePayloads'])
            .where('id', '=', id)
            .executeTakeFirst()
        : undefined
      if (!current) throw notFound('User')
      unchanged('id', sentId, id)
      if (password !== undefined) checkPassword(changes.username ?? current.username, password)
      if (roles) await checkAreas(roles)
      // An administrator cannot lock themselves out: someone else must do that.
      if (id === me.id && changes.active === false) {
        throw invalid('active', 'you cannot deactivate your own account')
      }
      const before: Rights = {
        roles: (await rolesOf([id], null)).get(id) ?? [],
        sensitiveClearance: current.sensitiveClearance,
        canExport: current.canExport,
        canDecodePayloads: current.canDecodePayloads,
      }
      const after: Rights = {
        roles: roles ? dedupe(roles) : before.roles,
        sensitiveClearance: changes.sensitiveClearance ?? before.sensitiveClearance,
        canExport: changes.canExport ?? before.canExport,
        canDecodePayloads: changes.canDecodePayloads ?? before.canDecodePayloads,
      }
      try {
        await assertGrantAllowed(db, me, id, before, after)
      } catch (error) {
        // The attempt itself is worth knowing about: it changes nothing but is recorded.
        if (error instanceof ApiError && error.code === 'SELF_GRANT_REFUSED') {
          await recordUserChange(db, {
            actorUserId: me.id,
            subjectUserId: id,
            action: 'self_grant_refused',
            before,
            after,
          })
        }
        throw error
      }
      if (changes.username !== undefined && (await usernameTaken(changes.username, id))) {
        throw conflict(taken(changes.username))
      }
      const passwordHash = password === undefined ? undefined : await hashPassword(password)
      await uniquely(taken(changes.username ?? current.username), () =>
        db.transaction().execute(async (trx) => {
          const snapshotBefore = (await userSnapshot(trx, id))!
          const set = { ...changes, ...(passwordHash ? { passwordHash } : {}) }
          if (Object.keys(set).length) {
            await trx.updateTable('users').set(set).where('id', '=', id).execute()
          }
          if (roles) {
            await trx.deleteFrom('userRoles').where('userId', '=', id).execute()
            if (after.roles.length) {
              await trx
                .insertInto('userRoles')
                .values(
                  after.roles.map((r) => ({ userId: id, roleCode: r.role, areaCode: r.areaCode })),
                )
                .execute()
            }
          }
          const snapshotAfter = (await userSnapshot(trx, id))!
          // Every change to an account is recorded (who, before, after); a save that changes
          // nothing (react-admin sends the whole record) records nothing.
          if (JSON.stringify(snapshotBefore) !== JSON.stringify(snapshotAfter) || passwordHash) {
            await recordUserChange(trx, {
              actorUserId: me.id,
              subjectUserId: id,
              action: 'user_updated',
              before: snapshotBefore,
              after: { ...snapshotAfter, ...(passwordHash ? { passwordReset: true } : {}) },
            })
          }
        }),
      )
      // A reset password or a closed account must not leave a stolen session open.
      if (passwordHash || changes.active === false) await endSessions(id)
      return c.json(await loadFull(id), 200)
    })
}
