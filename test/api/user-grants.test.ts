import { Hono } from 'hono'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { hashPassword } from '../../api/auth/passwords'
import { createApiToken, revokeApiToken } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { onError } from '../../api/errors'
import { authRoutes } from '../../api/routes/auth'
import { referenceRoutes } from '../../api/routes/reference'
import { appSignedInByHeader, fromAddress, signInThroughRoutes } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { userId } from '../helpers/fixtures'

let tdb: TestDatabase
let app: ReturnType<typeof appSignedInByHeader>
const REGIONAL = 'admin.koulikoro'

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  app = appSignedInByHeader(tdb.db, (api) => api.route('/api', referenceRoutes({ db: tdb.db })))
  // An administrator of one region only, holding neither clearance nor any permission.
  const { id } = await tdb.db
    .insertInto('users')
    .values({
      username: REGIONAL,
      displayName: 'Administrateur Koulikoro',
      email: null,
      passwordHash: await hashPassword(DEMO_PASSWORD),
      totpSecret: null,
    })
    .returning('id')
    .executeTakeFirstOrThrow()
  await tdb.db
    .insertInto('userRoles')
    .values({ userId: id, roleCode: 'administrator', areaCode: 'ML-2' })
    .execute()
})
afterAll(() => tdb?.drop())

const put = (user: string, id: string, body: unknown) =>
  app.request(`/api/users/${id}`, {
    method: 'PUT',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const post = (user: string, body: unknown) =>
  app.request('/api/users', {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const errorCode = async (res: Response) =>
  ((await res.json()) as { error: { code: string } }).error.code
const rightsOf = async (username: string) =>
  (
    await sql<Record<string, unknown>>`
      select u.sensitive_clearance as "clearance", u.can_export as "canExport",
        u.can_decode_payloads as "canDecodePayloads",
        array(select r.role_code || '@' || r.area_code from user_roles r where r.user_id = u.id
          order by 1) as "roles"
      from users u where u.username = ${username}`.execute(tdb.db)
  ).rows[0]
const auditOf = async (username: string) =>
  tdb.db
    .selectFrom('userAudit')
    .select(['action', 'actorUserId', 'before', 'after'])
    .where('subjectUserId', '=', await userId(tdb.db, username))
    .orderBy('id')
    .execute()

describe('nobody grants rights to themselves', () => {
  it("refuses an administrator's national programme-manager role and clearance for itself, records the attempt, changes nothing", async () => {
    const adminId = await userId(tdb.db, 'admin')
    const before = await rightsOf('admin')
    const res = await put('admin', adminId, {
      roles: [
        { role: 'administrator', areaCode: 'ML' },
        { role: 'programme_manager', areaCode: 'ML' },
      ],
      sensitiveClearance: true,
      canDecodePayloads: true,
    })
    expect(res.status).toBe(403)
    expect(await errorCode(res)).toBe('SELF_GRANT_REFUSED')
    expect(await rightsOf('admin')).toEqual(before)
    expect(await auditOf('admin')).toEqual([
      expect.objectContaining({
        action: 'self_grant_refused',
        actorUserId: adminId,
        after: expect.objectContaining({
          roles: expect.arrayContaining([{ role: 'programme_manager', areaCode: 'ML' }]),
        }),
      }),
    ])
  })

  it('still lets an administrator save its own record unchanged (react-admin sends it whole)', async () => {
    const adminId = await userId(tdb.db, 'admin')
    const record = (await (
      await app.request(`/api/users/${adminId}`, { headers: { 'x-test-user': 'admin' } })
    ).json()) as Record<string, unknown>
    const res = await put('admin', adminId, { ...record, displayName: 'Administrateur national' })
    expect(res.status).toBe(200)
  })
})

describe('nobody grants beyond what they hold', () => {
  it('a regional administrator grants roles within its region only', async () => {
    const agent = await userId(tdb.db, 'agent.kati.2')
    const within = await put(REGIONAL, agent, {
      roles: [
        { role: 'case_worker', areaCode: 'ML-2-KATI-KATI' },
        { role: 'supervisor', areaCode: 'ML-2-KATI' },
      ],
    })
    expect(within.status).toBe(200)
    const nationally = await put(REGIONAL, agent, {
      roles: [{ role: 'programme_manager', areaCode: 'ML' }],
    })
    expect(nationally.status).toBe(403)
    expect(await errorCode(nationally)).toBe('GRANT_REFUSED')
    const elsewhere = await post(REGIONAL, {
      username: 'agent.segou.nouveau',
      displayName: 'Agent Ségou',
      password: 'Long-enough-2026',
      roles: [{ role: 'case_worker', areaCode: 'ML-4' }],
    })
    expect(elsewhere.status).toBe(403)
    // Nor may it withdraw a role held in another region.
    const segou = await tdb.db
      .selectFrom('userRoles')
      .innerJoin('users', 'users.id', 'userRoles.userId')
      .select('users.id')
      .where('userRoles.areaCode', 'like', 'ML-4%')
      .executeTakeFirstOrThrow()
    expect((await put(REGIONAL, segou.id, { roles: [] })).status).toBe(403)
  })

  it('clearance and permissions are granted only by someone holding them', async () => {
    const agent = await userId(tdb.db, 'agent.kati.1')
    for (const grant of [
      { sensitiveClearance: true },
      { canExport: true },
      { canDecodePayloads: true },
    ]) {
      const res = await put(REGIONAL, agent, grant)
      expect(res.status, JSON.stringify(grant)).toBe(403)
      expect(await errorCode(res)).toBe('GRANT_REFUSED')
    }
    expect(await rightsOf('agent.kati.1')).toMatchObject({
      clearance: false,
      canExport: false,
      canDecodePayloads: false,
    })
    // The national administrator holds clearance and the export permission, not the operator's.
    expect((await put('admin', agent, { sensitiveClearance: true, canExport: true })).status).toBe(
      200,
    )
    expect((await put('admin', agent, { canDecodePayloads: true })).status).toBe(403)
    // The Temporal operator holds that one, but administers nothing: it edits no user.
    expect((await put('exploitant', agent, { canDecodePayloads: true })).status).toBe(403)
    // Withdrawing is always possible for an administrator of the user.
    expect((await put(REGIONAL, agent, { sensitiveClearance: false })).status).toBe(200)
  })
})

describe('every change to a user is an append-only audit event', () => {
  it('records creation and each change of roles, clearance, permissions and password, with who, before and after', async () => {
    const adminId = await userId(tdb.db, 'admin')
    const created = await post('admin', {
      username: 'agent.audite',
      displayName: 'Agent audité',
      password: 'Long-enough-2026',
      roles: [{ role: 'case_worker', areaCode: 'ML-2-KATI-KATI' }],
    })
    expect(created.status).toBe(201)
    const { id } = (await created.json()) as { id: string }
    await put('admin', id, {
      roles: [{ role: 'supervisor', areaCode: 'ML-2-KATI' }],
      sensitiveClearance: true,
    })
    await put('admin', id, { canExport: true, password: 'Another-long-2026' })
    await put('admin', id, { canExport: true }) // nothing changes: nothing recorded

    const events = await auditOf('agent.audite')
    expect(events.map((e) => e.action)).toEqual(['user_created', 'user_updated', 'user_updated'])
    expect(events.every((e) => e.actorUserId === adminId)).toBe(true)
    expect(events[0]!.after).toMatchObject({
      roles: [{ role: 'case_worker', areaCode: 'ML-2-KATI-KATI' }],
      sensitiveClearance: false,
    })
    expect(events[1]!.before).toMatchObject({
      roles: [{ role: 'case_worker', areaCode: 'ML-2-KATI-KATI' }],
      sensitiveClearance: false,
    })
    expect(events[1]!.after).toMatchObject({
      roles: [{ role: 'supervisor', areaCode: 'ML-2-KATI' }],
      sensitiveClearance: true,
    })
    expect(events[2]).toMatchObject({
      before: { canExport: false },
      after: { canExport: true, passwordReset: true },
    })
    expect(JSON.stringify(events)).not.toMatch(/argon2|Another-long/)
  })

  it('records tokens issued and revoked, the second factor enrolled and a password changed', async () => {
    const auth = new Hono<AppEnv>()
      .route('/api/auth', authRoutes({ db: tdb.db, secureCookies: false }))
      .onError(onError(createLogger('silent', false)))
    const username = 'superviseur.cercle.kati'
    const subject = await userId(tdb.db, username)
    const s = await signInThroughRoutes(auth, username, DEMO_PASSWORD)
    const changed = await auth.request(
      '/api/auth/password',
      {
        method: 'POST',
        headers: {
          'content-type': 'application/json',
          cookie: s.cookie,
          'x-csrf-token': s.csrfToken,
        },
        body: JSON.stringify({ currentPassword: DEMO_PASSWORD, newPassword: 'Nouveau-mot-2026' }),
      },
      fromAddress('192.0.2.10'),
    )
    expect(changed.status).toBe(204)
    const adminId = await userId(tdb.db, 'admin')
    const { id: tokenId } = await createApiToken(tdb.db, {
      name: 'registre',
      userId: subject,
      actorUserId: adminId,
    })
    await revokeApiToken(tdb.db, tokenId, new Date(), adminId)

    const events = await auditOf(username)
    expect(events.map((e) => [e.action, e.actorUserId])).toEqual([
      ['totp_enrolled', subject],
      ['password_changed', subject],
      ['token_issued', adminId],
      ['token_revoked', adminId],
    ])
    expect(events[2]!.after).toMatchObject({ tokenId, name: 'registre', scope: null })
  })

  it('cannot be changed or erased, by the application or the table owner', async () => {
    for (const statement of [
      sql`update user_audit set actor_user_id = null`,
      sql`delete from user_audit`,
      sql`truncate user_audit`,
    ]) {
      await expect(statement.execute(tdb.db)).rejects.toThrow(/append-only/)
    }
  })
})
