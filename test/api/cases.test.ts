import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import type { AppEnv } from '../../api/auth/types'
import { casesRoutes } from '../../api/routes/cases'
import { tasksRoutes } from '../../api/routes/tasks'
import { caseWorkflowId, type OpenCaseInput } from '../../workflows/messages'
import { appSignedInByHeader } from '../helpers/api'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { grievanceInput, userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

function buildApp(db: Db, taskQueue: string) {
  return appSignedInByHeader(db, (api) => {
    api.route('/api/cases', casesRoutes({ db, temporal: client, taskQueue }))
    api.route('/api/tasks', tasksRoutes({ db, temporal: client, taskQueue }))
  })
}

const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const post = (path: string, user: string, body: unknown, key?: string) =>
  app.request(path, {
    method: 'POST',
    headers: {
      'x-test-user': user,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
  })
const list = (user: string, params: Record<string, unknown> = {}) =>
  get(
    `/api/cases?${new URLSearchParams(
      Object.fromEntries(Object.entries(params).map(([k, v]) => [k, JSON.stringify(v)])),
    )}`,
    user,
  )
const ids = async (res: Response) => {
  const body = (await res.json()) as { id: string }[]
  if (!Array.isArray(body)) throw new Error(`not a list: ${res.status} ${JSON.stringify(body)}`)
  return body.map((c) => c.id).sort()
}

const BAGUINEDA = 'ML-2-KATI-BAGUINEDA'
const cases = {
  kati: grievanceInput({ caseId: 'G-kati' }),
  baguineda: grievanceInput({ caseId: 'G-bag', areaCode: BAGUINEDA }),
  sensitive: grievanceInput({ caseId: 'G-sens', category: 'sea_gbv', sensitive: true }),
  kayes: grievanceInput({ caseId: 'G-kayes', areaCode: 'ML-1-KAYES-KAYES' }),
}

async function open(input: OpenCaseInput) {
  await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
}

const auditRows = (caseId: string) =>
  sql<{ action: string; role: string | null; username: string }>`
    select a.action, a.role, u.username from access_audit a join users u on u.id = a.user_id
    where a.case_id = ${caseId} order by a.id`
    .execute(tdb.db)
    .then((r) => r.rows)

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  // A second commune in the cercle of Kati, added after the migration: the trigger gives its path.
  await tdb.db
    .insertInto('adminAreas')
    .values({ code: BAGUINEDA, parentCode: 'ML-2-KATI', level: 'commune', name: 'Baguineda' })
    .execute()
  await tdb.db
    .insertInto('users')
    .values({
      username: 'sans.role',
      displayName: 'Sans rôle',
      email: null,
      passwordHash: null,
      totpSecret: null,
    })
    .execute()
  app = buildApp(tdb.db, worker.taskQueue)
  await Promise.all(Object.values(cases).map(open))
  // Every case projected up to its open triage task.
  await eventually(
    async () => {
      const n = await tdb.db
        .selectFrom('tasks')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('kind', '=', 'triage')
        .executeTakeFirstOrThrow()
      return Number(n.n) === 4 ? true : undefined
    },
    { what: 'four triage tasks projected' },
  )
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

describe('area paths', () => {
  it('are filled for seeded areas and by the trigger for new ones', async () => {
    const rows = await sql<{ code: string; path: string }>`
      select code, path from admin_areas where code in ('ML-2-KATI-KATI', ${BAGUINEDA})
      order by code`.execute(tdb.db)
    expect(rows.rows).toEqual([
      { code: BAGUINEDA, path: `ML/ML-2/ML-2-KATI/${BAGUINEDA}` },
      { code: 'ML-2-KATI-KATI', path: 'ML/ML-2/ML-2-KATI/ML-2-KATI-KATI' },
    ])
  })
})

describe('access to cases: role × area × sensitivity, decided in SQL', () => {
  it('a case worker of a commune does not see a case of another commune: 404 like a missing id', async () => {
    expect(await ids(await list('agent.kati.1'))).toEqual(['G-kati'])
    // Asking for it by id in the list does not reveal it either.
    expect(await ids(await list('agent.kati.1', { filter: { id: ['G-bag'] } }))).toEqual([])

    const hidden = await get('/api/cases/G-bag', 'agent.kati.1')
    const missing = await get('/api/cases/G-nope', 'agent.kati.1')
    expect(hidden.status).toBe(404)
    expect(missing.status).toBe(404)
    expect(await hidden.text()).toBe(await missing.text())
    // A command on it gets the same answer.
    const command = await post('/api/cases/G-bag/pause-sla', 'agent.kati.1', { reason: 'other' })
    expect(command.status).toBe(404)
    expect(await command.text()).toBe(await (await get('/api/cases/G-nope', 'agent.kati.1')).text())

    // Both are audited: the denied access, and the probe for an id that does not exist.
    expect(await auditRows('G-bag')).toContainEqual(
      expect.objectContaining({ action: 'denied', username: 'agent.kati.1' }),
    )
    expect(await auditRows('G-nope')).toContainEqual(
      expect.objectContaining({ action: 'not_found', username: 'agent.kati.1' }),
    )
  })

  it('a supervisor of the cercle sees the cases of its communes, not of another region', async () => {
    expect(await ids(await list('superviseur.cercle.kati'))).toEqual(['G-bag', 'G-kati'])
    expect((await get('/api/cases/G-bag', 'superviseur.cercle.kati')).status).toBe(200)
    expect((await get('/api/cases/G-kayes', 'superviseur.cercle.kati')).status).toBe(404)
  })

  it('a sensitive case is invisible without clearance and visible to the focal point, audited', async () => {
    const denied = await get('/api/cases/G-sens', 'superviseur.cercle.kati')
    expect(denied.status).toBe(404)
    expect(await denied.text()).toBe(
      await (await get('/api/cases/G-nope', 'superviseur.cercle.kati')).text(),
    )
    expect(
      await ids(await list('superviseur.cercle.kati', { filter: { sensitive: true } })),
    ).toEqual([])
    expect(await ids(await list('gestionnaire'))).toEqual(['G-bag', 'G-kati', 'G-kayes'])

    const read = await get('/api/cases/G-sens', 'point-focal.koulikoro')
    expect(read.status).toBe(200)
    const body = (await read.json()) as {
      id: string
      sensitive: boolean
      timeline: { seq: number; type: string }[]
      live: { stage: string } | null
    }
    expect(body).toMatchObject({ id: 'G-sens', sensitive: true })
    expect(body.timeline[0]).toMatchObject({ seq: 1, type: 'case.opened' })
    expect(body.timeline.map((e) => e.seq)).toEqual(
      [...body.timeline.map((e) => e.seq)].sort((a, b) => a - b),
    )
    expect(body.live?.stage).toBe('triage')
    expect((await get('/api/cases/G-sens', 'superviseur.region.koulikoro')).status).toBe(200)

    const audit = await auditRows('G-sens')
    expect(audit).toContainEqual({
      action: 'denied',
      role: null,
      username: 'superviseur.cercle.kati',
    })
    expect(audit).toContainEqual({
      action: 'read',
      role: 'case_worker',
      username: 'point-focal.koulikoro',
    })
    expect(audit).toContainEqual({
      action: 'read',
      role: 'supervisor',
      username: 'superviseur.region.koulikoro',
    })
    // The audit is append-only.
    await expect(sql`delete from access_audit`.execute(tdb.db)).rejects.toThrow(/append-only/)
  })

  it('a user without a role, an administrator and a partner see no case', async () => {
    for (const user of ['sans.role', 'admin', 'partenaire.pam']) {
      const res = await list(user)
      expect(res.status).toBe(200)
      expect(await res.json()).toEqual([])
      expect(res.headers.get('content-range')).toBe('cases */0')
      expect((await get('/api/cases/G-kati', user)).status).toBe(404)
    }
  })
})

describe('case lists (react-admin conventions)', () => {
  it('sort, range and filter, with Content-Range', async () => {
    const page = await list('gestionnaire', { sort: ['id', 'ASC'], range: [0, 1] })
    expect(page.status).toBe(200)
    expect(page.headers.get('content-range')).toBe('cases 0-1/3')
    expect(((await page.json()) as { id: string }[]).map((c) => c.id)).toEqual(['G-bag', 'G-kati'])

    const second = await list('gestionnaire', { sort: ['id', 'ASC'], range: [2, 3] })
    expect(second.headers.get('content-range')).toBe('cases 2-2/3')
    expect(await ids(second)).toEqual(['G-kayes'])

    const desc = await list('gestionnaire', { sort: ['id', 'DESC'] })
    expect(((await desc.json()) as { id: string }[]).map((c) => c.id)).toEqual([
      'G-kayes',
      'G-kati',
      'G-bag',
    ])

    expect(await ids(await list('gestionnaire', { filter: { areaCode: 'ML-2-KATI' } }))).toEqual([
      'G-bag',
      'G-kati',
    ])
    expect(
      await ids(
        await list('gestionnaire', {
          filter: { status: 'open', kind: 'grievance', stage: ['triage'], q: 'G-ka' },
        }),
      ),
    ).toEqual(['G-kati', 'G-kayes'])
  })

  it('a bad sort, range or filter is a 400 naming the field', async () => {
    const cases = [
      [{ sort: ['narrative', 'ASC'] }, 'sort.0'],
      [{ sort: ['id', 'UP'] }, 'sort.1'],
      [{ range: [5, 2] }, 'range'],
      [{ range: [0, 10_000] }, 'range'],
      [{ filter: { evil: 1 } }, 'filter'],
      [{ filter: { status: 'pending' } }, 'filter.status'],
    ] as const
    for (const [params, field] of cases) {
      const res = await list('gestionnaire', params)
      expect(res.status, JSON.stringify(params)).toBe(400)
      const body = (await res.json()) as {
        error: { code: string; details: { path: string }[] }
      }
      expect(body.error.code).toBe('INVALID_QUERY')
      expect(body.error.details.map((d) => d.path).join(' ')).toContain(field)
    }
    const notJson = await get('/api/cases?filter=%7Bstatus', 'gestionnaire')
    expect(notJson.status).toBe(400)
    expect(await notJson.json()).toMatchObject({
      error: { code: 'INVALID_QUERY', details: [{ path: 'filter', message: 'not valid JSON' }] },
    })
  })
})

describe('case commands', () => {
  it('twenty concurrent identical POSTs with one Idempotency-Key: one effect, identical answers', async () => {
    const responses = await Promise.all(
      Array.from({ length: 20 }, () =>
        post(
          '/api/cases/G-bag/pause-sla',
          'superviseur.cercle.kati',
          { reason: 'waiting_partner' },
          'pause-1',
        ),
      ),
    )
    const bodies = await Promise.all(responses.map((r) => r.text()))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(200))
    expect([...new Set(bodies)]).toEqual([bodies[0]])
    expect(responses.filter((r) => r.headers.get('idempotent-replayed') === 'true')).toHaveLength(
      19,
    )
    expect(JSON.parse(bodies[0]!)).toMatchObject({
      case: { id: 'G-bag', slaState: 'paused' },
      result: { paused: true, pauseReason: 'waiting_partner' },
    })
    const paused = await tdb.db
      .selectFrom('caseEvents')
      .select('seq')
      .where('caseId', '=', 'G-bag')
      .where('type', '=', 'sla.paused')
      .execute()
    expect(paused).toHaveLength(1)

    // The same key with another body is refused, and changes nothing.
    const reused = await post(
      '/api/cases/G-bag/pause-sla',
      'superviseur.cercle.kati',
      { reason: 'other' },
      'pause-1',
    )
    expect(reused.status).toBe(422)
    expect(await reused.json()).toMatchObject({ error: { code: 'IDEMPOTENCY_KEY_REUSED' } })

    // Without a key, a second pause is a conflict the workflow refuses.
    const again = await post('/api/cases/G-bag/pause-sla', 'superviseur.cercle.kati', {
      reason: 'other',
    })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: { code: 'SLA_ALREADY_PAUSED' } })
    const resumed = await post('/api/cases/G-bag/resume-sla', 'superviseur.cercle.kati', {})
    expect(resumed.status).toBe(200)
    expect(await resumed.json()).toMatchObject({ case: { slaState: 'on_track' } })
  })

  it('maps refusals: a case worker extending → 403, a bad body → 422, a withdrawn case → 409', async () => {
    const extend = await post('/api/cases/G-kati/extend-sla', 'agent.kati.1', {
      byMs: 3_600_000,
      reason: 'terrain inaccessible',
    })
    expect(extend.status).toBe(403)
    expect(await extend.json()).toMatchObject({ error: { code: 'NOT_ALLOWED' } })

    const invalid = await post('/api/cases/G-kati/pause-sla', 'agent.kati.1', { reason: 'bored' })
    expect(invalid.status).toBe(422)
    expect(await invalid.json()).toMatchObject({
      error: { code: 'INVALID_COMMAND', details: [{ path: 'reason' }] },
    })

    // A body that is not declared JSON is not a way around validation.
    const untyped = await app.request('/api/cases/G-kati/pause-sla', {
      method: 'POST',
      headers: { 'x-test-user': 'agent.kati.1' },
      body: JSON.stringify({ reason: 'bored' }),
    })
    expect(untyped.status).toBeGreaterThanOrEqual(400)
    expect(untyped.status).toBeLessThan(500)

    const supervisor = await userId(tdb.db, 'superviseur.cercle.kati')
    const withdrawn = await post('/api/cases/G-kati/withdraw', 'superviseur.cercle.kati', {
      reason: 'le plaignant retire sa plainte',
    })
    expect(withdrawn.status).toBe(200)
    expect(await withdrawn.json()).toMatchObject({ case: { status: 'closed', stage: 'closed' } })
    const closedBy = await tdb.db
      .selectFrom('caseEvents')
      .select(['actorId', 'actorRole'])
      .where('caseId', '=', 'G-kati')
      .where('type', '=', 'case.closed')
      .executeTakeFirstOrThrow()
    // The actor is the signed-in user in the role that covers the case's area.
    expect(closedBy).toEqual({ actorId: supervisor, actorRole: 'supervisor' })

    const late = await post('/api/cases/G-kati/pause-sla', 'superviseur.cercle.kati', {
      reason: 'other',
    })
    expect(late.status).toBe(409)
    expect(await late.json()).toMatchObject({ error: { code: 'CASE_CLOSED' } })
  })
})

describe('large case lists: a bounded total', () => {
  it('counts exactly up to the cap, and past it answers an estimate never below the rows shown', async () => {
    const area = 'ML-1-KAYES-KAYES'
    // 1,200 closed cases written straight into the read model (no workflow behind them).
    await sql`
      insert into cases (id, workflow_id, kind, status, stage, area_code, category, priority,
        channel, sensitive, sla_state, resolve_due_at, escalation_level, opened_at, closed_at,
        last_event_seq, updated_at)
      select 'BULK-' || lpad(g::text, 4, '0'), 'case-BULK-' || g, 'grievance', 'closed', 'closed',
        ${area}, 'exclusion_error', (array['low', 'normal', 'high', 'urgent'])[1 + g % 4], 'hotline',
        false, 'met', now() + g * interval '1 minute', 0, now() - g * interval '1 hour', now(), 1,
        now()
      from generate_series(1, 1200) as g`.execute(tdb.db)
    await sql`analyze cases`.execute(tdb.db)

    // Under the cap (300 urgent ones): the exact total.
    const urgent = await list('gestionnaire', {
      filter: { areaCode: area, status: 'closed', priority: 'urgent' },
    })
    expect(urgent.headers.get('content-range')).toBe('cases 0-24/300')

    // Over the cap: still an integer total for react-admin, past the cap and the rows shown.
    const all = await list('gestionnaire', { filter: { areaCode: area, status: 'closed' } })
    expect(((await all.json()) as unknown[]).length).toBe(25)
    const total = Number(/^cases 0-24\/(\d+)$/.exec(all.headers.get('content-range') ?? '')?.[1])
    expect(total).toBeGreaterThan(1000)

    const last = await list('gestionnaire', {
      filter: { areaCode: area, status: 'closed' },
      sort: ['id', 'ASC'],
      range: [1175, 1199],
    })
    expect(await ids(last)).toHaveLength(25)
    const lastTotal = /^cases 1175-1199\/(\d+)$/.exec(last.headers.get('content-range') ?? '')
    expect(Number(lastTotal?.[1])).toBeGreaterThanOrEqual(1200)
  })
})
