import SwaggerParser from '@apidevtools/swagger-parser'
import { OpenAPIHono } from '@hono/zod-openapi'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import { seedDemo } from '../../activities/db/seed'
import { verifyPassword } from '../../api/auth/passwords'
import type { AppEnv } from '../../api/auth/types'
import { referenceRoutes } from '../../api/routes/reference'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'

let tdb: TestDatabase
let app: OpenAPIHono<AppEnv>

function buildApp(db: Db) {
  return appSignedInByHeader(db, (api) => {
    api.route('/api', referenceRoutes({ db }))
  })
}

const ADMIN = 'admin'
const AGENT = 'agent.kati.1'
const SUPERVISOR = 'superviseur.cercle.kati'

const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const send = (method: string, path: string, user: string, body?: unknown, key?: string) =>
  app.request(path, {
    method,
    headers: {
      'x-test-user': user,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
const list = (resource: string, user: string, params: Record<string, unknown> = {}) =>
  get(
    `/api/${resource}?${new URLSearchParams(
      Object.fromEntries(Object.entries(params).map(([k, v]) => [k, JSON.stringify(v)])),
    )}`,
    user,
  )
async function json<T = Record<string, unknown>>(res: Response, status = 200): Promise<T> {
  const text = await res.text()
  if (res.status !== status) throw new Error(`expected ${status}, got ${res.status}: ${text}`)
  return JSON.parse(text) as T
}
const ids = async (res: Response) => (await json<{ id: string }[]>(res)).map((r) => r.id)
/** No answer of this API ever carries a secret of a user. */
const noSecrets = (body: unknown) => {
  const text = JSON.stringify(body)
  expect(text).not.toMatch(/passwordHash|password_hash|\$argon2|totp/i)
}

const policy = (targets: Record<string, unknown> = {}) => ({
  caseKind: 'grievance',
  category: 'wrong_amount',
  targets: {
    acknowledge: 3600,
    triage: 28_800,
    investigation: 288_000,
    approval: 86_400,
    resolve: 864_000,
    escalationRepeat: 144_000,
    appealWindow: 2_592_000,
    ...targets,
  },
  atRiskRatio: 0.8,
})

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  // A household in another commune of the cercle of Kati.
  await tdb.db
    .insertInto('adminAreas')
    .values({
      code: 'ML-2-KATI-BAGUINEDA',
      parentCode: 'ML-2-KATI',
      level: 'commune',
      name: 'Baguineda',
    })
    .execute()
  await tdb.db
    .insertInto('households')
    .values({ id: 'RSU-0000099', areaCode: 'ML-2-KATI-BAGUINEDA', members: 3, pmtScore: 40.5 })
    .execute()
  app = buildApp(tdb.db)
})
afterAll(async () => {
  await tdb?.drop()
})

describe('lists: react-admin sort, range, filter and Content-Range', () => {
  it('areas filter by level and parent, sort and page', async () => {
    const res = await list('areas', AGENT, {
      filter: { level: 'region' },
      sort: ['name', 'DESC'],
      range: [0, 2],
    })
    const regions = await json<{ id: string; name: string; level: string }[]>(res)
    expect(regions).toHaveLength(3)
    expect(regions.every((r) => r.level === 'region')).toBe(true)
    const names = regions.map((r) => r.name)
    expect(names).toEqual([...names].sort().reverse())
    const total = await tdb.db
      .selectFrom('adminAreas')
      .select((eb) => eb.fn.countAll<string>().as('n'))
      .where('level', '=', 'region')
      .executeTakeFirstOrThrow()
    expect(res.headers.get('content-range')).toBe(`areas 0-2/${total.n}`)

    const communes = await ids(await list('areas', AGENT, { filter: { parentCode: 'ML-2-KATI' } }))
    expect(communes.sort()).toEqual(['ML-2-KATI-BAGUINEDA', 'ML-2-KATI-KATI'])
    const found = await json<{ code: string }[]>(
      await list('areas', AGENT, { filter: { q: 'bagui' } }),
    )
    expect(found.map((a) => a.code)).toEqual(['ML-2-KATI-BAGUINEDA'])
    expect(await json(await get('/api/areas/ML-2-KATI', AGENT))).toMatchObject({
      id: 'ML-2-KATI',
      level: 'cercle',
      parentCode: 'ML-2',
      name: 'Kati',
    })
  })

  it('holidays filter by year; an empty page says */total', async () => {
    const res = await list('holidays', AGENT, { filter: { year: 2026 }, range: [0, 99] })
    const days = await json<{ date: string }[]>(res)
    expect(days.length).toBeGreaterThan(5)
    expect(days.every((d) => d.date.startsWith('2026-'))).toBe(true)
    expect(days.map((d) => d.date)).toEqual(days.map((d) => d.date).sort())
    expect(res.headers.get('content-range')).toBe(`holidays 0-${days.length - 1}/${days.length}`)
    const none = await list('holidays', AGENT, { filter: { year: 1999 } })
    expect(await json(none)).toEqual([])
    expect(none.headers.get('content-range')).toBe('holidays */0')
  })

  it('partners and services are read by every signed-in user, a partner with its services', async () => {
    const partners = await ids(await list('partners', 'partenaire.pam', { sort: ['code', 'ASC'] }))
    expect(partners).toContain('pam')
    const pam = await json<{ services: { serviceCode: string; areaCode: string }[] }>(
      await get('/api/partners/pam', AGENT),
    )
    expect(pam.services.map((s) => s.serviceCode).sort()).toEqual([
      'cash_transfer',
      'food_assistance',
    ])
    expect(pam.services.every((s) => s.areaCode === 'ML')).toBe(true)
    // Partners delivering food assistance in Kati (their area, Mali, contains it).
    expect(
      await ids(
        await list('partners', AGENT, {
          filter: { serviceCode: 'food_assistance', servesArea: 'ML-2-KATI-KATI' },
        }),
      ),
    ).toEqual(['pam'])
    expect(await ids(await list('services', AGENT, { filter: { q: 'nutri' } }))).toEqual([
      'nutrition',
    ])
    // Services are read-only: no write route exists.
    expect((await send('POST', '/api/services', ADMIN, { code: 'x' })).status).toBe(404)
  })

  it('bad list parameters are a 400 INVALID_QUERY naming the field', async () => {
    const res = await list('areas', AGENT, { sort: ['secret', 'ASC'], filter: { nope: 1 } })
    const body = await json<{ error: { code: string; details: { path: string }[] } }>(res, 400)
    expect(body.error.code).toBe('INVALID_QUERY')
    expect(body.error.details.map((d) => d.path)).toEqual(
      expect.arrayContaining([expect.stringMatching(/^sort/), expect.stringMatching(/^filter/)]),
    )
    expect((await list('holidays', AGENT, { range: [10, 2] })).status).toBe(400)
  })
})

describe('administrators write reference data', () => {
  it('create and update a category; the code is immutable; a case worker gets 403', async () => {
    const category = {
      code: 'registration_delay',
      labelFr: "Retard d'enregistrement",
      labelEn: 'Registration delay',
    }
    expect(
      await json(await send('POST', '/api/categories', ADMIN, category, 'cat-1'), 201),
    ).toMatchObject({
      id: 'registration_delay',
      active: true,
      sensitive: false,
      caseKind: 'grievance',
    })
    // Same key, same body: the first answer again, not a second insert (which would be a 409).
    const replay = await send('POST', '/api/categories', ADMIN, category, 'cat-1')
    expect(replay.status).toBe(201)
    expect(replay.headers.get('idempotent-replayed')).toBe('true')
    expect((await send('POST', '/api/categories', ADMIN, category)).status).toBe(409)

    const updated = await json(
      await send('PUT', '/api/categories/registration_delay', ADMIN, {
        id: 'registration_delay',
        code: 'registration_delay',
        active: false,
      }),
    )
    expect(updated).toMatchObject({ active: false, labelEn: 'Registration delay' })
    const renamed = await send('PUT', '/api/categories/registration_delay', ADMIN, {
      code: 'other',
    })
    expect((await json<{ error: { details: unknown } }>(renamed, 422)).error.details).toEqual([
      { path: 'code', message: 'cannot be changed' },
    ])
    expect(await ids(await list('categories', AGENT, { filter: { active: false } }))).toEqual([
      'registration_delay',
    ])

    const denied = await send('POST', '/api/categories', AGENT, { ...category, code: 'x_y' })
    expect((await json<{ error: { code: string } }>(denied, 403)).error.code).toBe('FORBIDDEN')
    expect((await send('PUT', '/api/categories/other', AGENT, { active: false })).status).toBe(403)
  })

  it('create, move and delete a holiday; a duplicate date is a 409 CONFLICT', async () => {
    const created = await send('POST', '/api/holidays', ADMIN, {
      date: '2030-06-01',
      nameFr: 'Fête de test',
      nameEn: 'Test day',
    })
    expect(await json(created, 201)).toEqual({
      id: '2030-06-01',
      date: '2030-06-01',
      nameFr: 'Fête de test',
      nameEn: 'Test day',
      lunar: false,
    })
    const duplicate = await send('POST', '/api/holidays', ADMIN, {
      date: '2030-06-01',
      nameFr: 'Autre',
      nameEn: 'Other',
    })
    expect((await json<{ error: { code: string } }>(duplicate, 409)).error.code).toBe('CONFLICT')
    const badDate = await send('POST', '/api/holidays', ADMIN, {
      date: '2030-02-30',
      nameFr: 'x',
      nameEn: 'x',
    })
    const bad = await json<{ error: { code: string; details: { path: string }[] } }>(badDate, 422)
    expect(bad.error.code).toBe('INVALID_COMMAND')
    expect(bad.error.details[0]!.path).toBe('date')

    expect(
      await json(
        await send('PUT', '/api/holidays/2030-06-01', ADMIN, { date: '2030-06-02', lunar: true }),
      ),
    ).toMatchObject({ id: '2030-06-02', lunar: true, nameFr: 'Fête de test' })
    expect(await ids(await list('holidays', AGENT, { filter: { year: 2030 } }))).toEqual([
      '2030-06-02',
    ])
    expect((await send('DELETE', '/api/holidays/2030-06-02', AGENT)).status).toBe(403)
    expect((await send('DELETE', '/api/holidays/2030-06-02', ADMIN)).status).toBe(200)
    expect((await get('/api/holidays/2030-06-02', AGENT)).status).toBe(404)
  })

  it('SLA policies: read by supervisors, written by administrators, targets validated', async () => {
    expect((await list('sla-policies', AGENT)).status).toBe(403)
    const defaults = await json<{ id: number; category: string | null }[]>(
      await list('sla-policies', SUPERVISOR),
    )
    expect(defaults.some((p) => p.category === null)).toBe(true)

    const missing = policy()
    delete (missing.targets as Record<string, number>).resolve
    const invalidTargets = [
      [missing, 'targets.resolve'],
      [policy({ triage: -5 }), 'targets.triage'],
      [policy({ investigation: 1.5 }), 'targets.investigation'],
      [policy({ resolv: 100 }), 'targets'],
      [{ ...policy(), atRiskRatio: 1 }, 'atRiskRatio'],
      [{ ...policy(), category: 'no_such_category' }, 'category'],
    ] as const
    for (const [body, field] of invalidTargets) {
      const res = await send('POST', '/api/sla-policies', ADMIN, body)
      const answer = await json<{ error: { code: string; details: { path: string }[] } }>(res, 422)
      expect(answer.error.code).toBe('INVALID_COMMAND')
      expect(answer.error.details.map((d) => d.path)).toContain(field)
    }
    expect((await send('POST', '/api/sla-policies', AGENT, policy())).status).toBe(403)
    expect((await send('POST', '/api/sla-policies', SUPERVISOR, policy())).status).toBe(403)

    const created = await json<{ id: number; atRiskRatio: number; targets: object }>(
      await send('POST', '/api/sla-policies', ADMIN, policy()),
      201,
    )
    expect(created).toMatchObject({ category: 'wrong_amount', atRiskRatio: 0.8, active: true })
    expect((await send('POST', '/api/sla-policies', ADMIN, policy())).status).toBe(409)
    const changed = await json<{ targets: { resolve: number } }>(
      await send('PUT', `/api/sla-policies/${created.id}`, ADMIN, {
        targets: { ...created.targets, resolve: 432_000 },
      }),
    )
    expect(changed.targets.resolve).toBe(432_000)
    expect(
      (await send('PUT', `/api/sla-policies/${created.id}`, ADMIN, { category: 'other' })).status,
    ).toBe(422)
    // The default of a case kind stays in force: a case must always find a policy.
    const fallback = defaults.find((p) => p.category === null)!
    const off = await send('PUT', `/api/sla-policies/${fallback.id}`, ADMIN, { active: false })
    expect(
      (await json<{ error: { details: { path: string }[] } }>(off, 422)).error.details[0]!.path,
    ).toBe('active')
  })

  it('an administrator creates a user who can then be loaded; no password hash anywhere', async () => {
    const body = {
      username: 'agent.nouveau',
      displayName: 'Nouvel agent',
      email: 'nouveau@rsu.localhost',
      languages: ['fr', 'bm'],
      roles: [{ role: 'case_worker', areaCode: 'ML-2-KATI-BAGUINEDA' }],
      password: 'Un-mot-de-passe-2026',
    }
    const created = await json<{ id: string }>(await send('POST', '/api/users', ADMIN, body), 201)
    noSecrets(created)
    expect(created).toMatchObject({
      username: 'agent.nouveau',
      email: 'nouveau@rsu.localhost',
      locale: 'fr',
      languages: ['fr', 'bm'],
      active: true,
      onLeave: false,
      roles: [{ role: 'case_worker', areaCode: 'ML-2-KATI-BAGUINEDA' }],
    })
    const stored = await tdb.db
      .selectFrom('users')
      .select('passwordHash')
      .where('id', '=', created.id)
      .executeTakeFirstOrThrow()
    expect(stored.passwordHash).toMatch(/^\$argon2id\$/)
    expect(await verifyPassword(stored.passwordHash, body.password)).toBe(true)

    const loaded = await json(await get(`/api/users/${created.id}`, ADMIN))
    noSecrets(loaded)
    expect(loaded).toMatchObject({ id: created.id, displayName: 'Nouvel agent' })
    const all = await json(await list('users', ADMIN, { range: [0, 99] }))
    noSecrets(all)
    expect(await ids(await list('users', ADMIN, { filter: { q: 'agent.nouveau' } }))).toEqual([
      created.id,
    ])

    expect((await send('POST', '/api/users', ADMIN, body)).status).toBe(409)
    const weak = await send('POST', '/api/users', ADMIN, {
      ...body,
      username: 'x.y.z',
      password: 'court',
    })
    expect(
      (await json<{ error: { details: { path: string }[] } }>(weak, 422)).error.details[0]!.path,
    ).toBe('password')
    const nowhere = await send('POST', '/api/users', ADMIN, {
      ...body,
      username: 'x.y.z',
      roles: [{ role: 'supervisor', areaCode: 'ML-9' }],
    })
    expect(
      (await json<{ error: { details: { path: string }[] } }>(nowhere, 422)).error.details[0]!.path,
    ).toBe('roles.0.areaCode')
    expect((await send('POST', '/api/users', AGENT, { ...body, username: 'x.y.z' })).status).toBe(
      403,
    )

    const onLeave = await json(
      await send('PUT', `/api/users/${created.id}`, ADMIN, { onLeave: true }),
    )
    noSecrets(onLeave)
    expect(onLeave).toMatchObject({ onLeave: true, username: 'agent.nouveau' })
  })
})

describe('partners written by administrators', () => {
  it('add a partner with services by area, then replace its catalogue; others get 403', async () => {
    const body = {
      code: 'ong-kati',
      name: 'ONG de Kati',
      kind: 'ngo',
      services: [{ serviceCode: 'psychosocial', areaCode: 'ML-2-KATI' }],
    }
    expect((await send('POST', '/api/partners', AGENT, body)).status).toBe(403)
    const unknown = await send('POST', '/api/partners', ADMIN, {
      ...body,
      services: [{ serviceCode: 'astrology', areaCode: 'ML-2-KATI' }],
    })
    expect(
      (await json<{ error: { details: { path: string }[] } }>(unknown, 422)).error.details[0]!.path,
    ).toBe('services.0.serviceCode')
    expect(await json(await send('POST', '/api/partners', ADMIN, body), 201)).toMatchObject({
      id: 'ong-kati',
      active: true,
      services: [{ serviceCode: 'psychosocial', areaCode: 'ML-2-KATI', areaName: 'Kati' }],
    })
    expect(
      await ids(
        await list('partners', AGENT, {
          filter: { serviceCode: 'psychosocial', servesArea: 'ML-2-KATI-BAGUINEDA' },
        }),
      ),
    ).toEqual(expect.arrayContaining(['ong-kati']))
    // Not in Kayes: its area does not contain it.
    expect(
      await ids(await list('partners', AGENT, { filter: { servesArea: 'ML-1-KAYES-KAYES' } })),
    ).not.toContain('ong-kati')
    const replaced = await json<{ services: unknown[]; active: boolean }>(
      await send('PUT', '/api/partners/ong-kati', ADMIN, { active: false, services: [] }),
    )
    expect(replaced).toMatchObject({ active: false, services: [] })
  })
})

describe('users seen by supervisors and others', () => {
  it('a supervisor reads the users of their areas without emails; others are 404', async () => {
    const res = await list('users', SUPERVISOR, { range: [0, 99] })
    const users = await json<Record<string, unknown>[]>(res)
    expect(users.length).toBeGreaterThan(0)
    for (const u of users) {
      expect(Object.keys(u).sort()).toEqual(['displayName', 'id', 'onLeave', 'roles'])
      for (const r of u.roles as { areaCode: string }[]) expect(r.areaCode).toMatch(/^ML-2-KATI/)
    }
    const names = users.map((u) => u.displayName)
    expect(names).toEqual(expect.arrayContaining(['Agent 1 — Kati', 'Agent 2 — Kati']))
    expect(names).not.toContain('Administrateur')
    expect(JSON.stringify(users)).not.toContain('@')

    const outsider = await tdb.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', 'agent.kayes.1')
      .executeTakeFirstOrThrow()
    expect((await get(`/api/users/${outsider.id}`, SUPERVISOR)).status).toBe(404)
    expect((await get(`/api/users/${outsider.id}`, ADMIN)).status).toBe(200)
    // A supervisor may not filter on what they cannot see.
    expect((await list('users', SUPERVISOR, { filter: { active: false } })).status).toBe(400)
    expect((await list('users', AGENT)).status).toBe(403)
    expect((await list('users', 'gestionnaire')).status).toBe(403)
  })
})

describe('households: within the areas of the reader, decided in SQL', () => {
  it('a case worker of Kati sees the household of Kati only; the administrator none', async () => {
    expect(await ids(await list('households', AGENT))).toEqual(['RSU-0000003'])
    expect((await get('/api/households/RSU-0000099', AGENT)).status).toBe(404)
    expect(await json(await get('/api/households/RSU-0000003', AGENT))).toEqual({
      id: 'RSU-0000003',
      areaCode: 'ML-2-KATI-KATI',
      members: 9,
      pmtScore: 17.2,
      programmes: ['jigisemejiri', 'ramed'],
      fetchedAt: expect.any(String),
    })
    // The supervisor of the cercle sees both communes.
    expect((await ids(await list('households', SUPERVISOR))).sort()).toEqual([
      'RSU-0000003',
      'RSU-0000099',
    ])
    const adminList = await list('households', ADMIN)
    expect(await json(adminList)).toEqual([])
    expect(adminList.headers.get('content-range')).toBe('households */0')
    expect((await get('/api/households/RSU-0000003', ADMIN)).status).toBe(404)
    expect(await ids(await list('households', 'partenaire.pam'))).toEqual([])
    const national = await list('households', 'gestionnaire', { sort: ['pmtScore', 'ASC'] })
    const scores = (await json<{ pmtScore: number }[]>(national)).map((h) => h.pmtScore)
    expect(scores).toEqual([...scores].sort((a, b) => a - b))
    expect(national.headers.get('content-range')).toBe('households 0-6/7')
  })
})

describe('OpenAPI', () => {
  it('documents every reference route in a valid document; SLA changes spare running cases', async () => {
    const doc = referenceRoutes({ db: tdb.db }).getOpenAPI31Document({
      openapi: '3.1.0',
      info: { title: 'reference', version: '1' },
    })
    await SwaggerParser.validate(structuredClone(doc) as never)
    const routes = Object.entries(doc.paths ?? {}).flatMap(([path, item]) =>
      Object.keys(item ?? {}).map((method) => `${method.toUpperCase()} ${path}`),
    )
    expect(routes.sort()).toEqual(
      [
        'GET /areas',
        'GET /areas/{code}',
        'GET /categories',
        'GET /categories/{code}',
        'POST /categories',
        'PUT /categories/{code}',
        'GET /holidays',
        'GET /holidays/{date}',
        'POST /holidays',
        'PUT /holidays/{date}',
        'DELETE /holidays/{date}',
        'GET /sla-policies',
        'GET /sla-policies/{id}',
        'POST /sla-policies',
        'PUT /sla-policies/{id}',
        'GET /users',
        'GET /users/{id}',
        'POST /users',
        'PUT /users/{id}',
        'GET /partners',
        'GET /partners/{code}',
        'POST /partners',
        'PUT /partners/{code}',
        'GET /services',
        'GET /services/{code}',
        'GET /households',
        'GET /households/{id}',
      ].sort(),
    )
    for (const method of ['post', 'put'] as const) {
      expect(
        doc.paths?.[method === 'post' ? '/sla-policies' : '/sla-policies/{id}']?.[method]
          ?.description,
      ).toMatch(/never touches running cases/)
    }
  })
})
