import { request as httpRequest } from 'node:http'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { serveApi, type ApiServer } from '../../api/server'
import { caseWorkflowId, type OpenCaseInput } from '../../workflows/messages'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedForCases, userId } from '../helpers/fixtures'
import {
  connectTestClient,
  eventually,
  startTestWorker,
  type RunningWorker,
} from '../helpers/temporal'

/**
 * The authorization matrix of issue 4 (Must show 1): every operation of the OpenAPI document
 * under /cases and /tasks × every kind of caller × a case in area, out of area and sensitive,
 * against the real app (bearer tokens, real PostgreSQL, real workflows). The expected status
 * comes from the rule table below, never from the code under test.
 */

// ---- The rule table ----

type Target = 'in_area' | 'out_of_area' | 'sensitive'
const TARGETS: Record<Target, Partial<OpenCaseInput>> = {
  in_area: { areaCode: 'ML-2-KATI-KATI' },
  // Another region (Kayes): outside the cercle of Kati and the region of Koulikoro.
  out_of_area: { areaCode: 'ML-1-KAYES-KAYES' },
  sensitive: { areaCode: 'ML-2-KATI-KATI', category: 'sea_gbv', sensitive: true },
}

/** Who may see (and so act on) which target; `null` is a caller without authentication. */
type Sees = Record<Target, boolean> | null
const NOTHING = { in_area: false, out_of_area: false, sensitive: false }
const CALLERS: Record<string, { username?: string; sees: Sees }> = {
  anonymous: { sees: null },
  // case_worker of the commune of Kati: its commune, nothing sensitive.
  case_worker: {
    username: 'agent.kati.1',
    sees: { in_area: true, out_of_area: false, sensitive: false },
  },
  // supervisor of the cercle of Kati: its cercle, nothing sensitive.
  supervisor: {
    username: 'superviseur.cercle.kati',
    sees: { in_area: true, out_of_area: false, sensitive: false },
  },
  // case_worker of the region of Koulikoro with clearance: the designated focal point.
  focal_point: {
    username: 'point-focal.koulikoro',
    sees: { in_area: true, out_of_area: false, sensitive: true },
  },
  // programme_manager of Mali: every area, still nothing sensitive without clearance.
  programme_manager: {
    username: 'gestionnaire',
    sees: { in_area: true, out_of_area: true, sensitive: false },
  },
  // Roles that do not see cases, and a user without any role: default deny.
  administrator: { username: 'admin', sees: NOTHING },
  partner: { username: 'partenaire.pam', sees: NOTHING },
  no_role: { username: 'sans.role', sees: NOTHING },
}
type Caller = keyof typeof CALLERS

/**
 * Who may register a case received by hotline, in person… (`POST /cases`) in the target's
 * commune: case workers and supervisors covering it, whatever its sensitivity (receiving a
 * report is not reading one). Anyone else signed in is refused with 403 NOT_ALLOWED.
 */
const REGISTERS: Record<Caller, Record<Target, boolean> | null> = {
  anonymous: null,
  case_worker: { in_area: true, out_of_area: false, sensitive: true },
  supervisor: { in_area: true, out_of_area: false, sensitive: true },
  focal_point: { in_area: true, out_of_area: false, sensitive: true },
  programme_manager: NOTHING,
  administrator: NOTHING,
  partner: NOTHING,
  no_role: NOTHING,
}

/** "Authorized, then judged on its merits": the workflow's business answers to a write. */
const MERITS_403 = ['NOT_ALLOWED', 'FOUR_EYES']
const judgedOnMerits = (status: number, code: string | undefined) =>
  (status >= 200 && status < 300) ||
  status === 409 ||
  status === 422 ||
  (status === 403 && MERITS_403.includes(code ?? ''))

/** Writes that end the case go last, in this order, so that the writes before them see it open. */
const CLOSING = [
  '/cases/{id}/duplicate',
  '/cases/{id}/withdraw',
  '/cases/{id}/reopen',
  // Last of all: a grant opens the case to its caller, which would change every later answer.
  '/cases/{id}/break-glass',
]

/**
 * Break-glass: designated roles (supervisors, programme managers) open a case within the areas
 * where they hold that role (201, audited, reported); a sensitive case without clearance gives
 * a request waiting for a second person (202); a case outside their areas answers exactly like
 * a missing one (404, same body). Everyone else signed in is refused with 403 NOT_ALLOWED,
 * whatever the case.
 */
const BREAK_GLASS = 'POST /cases/{id}/break-glass'
type GlassAnswer = 201 | 202 | 404
const BREAKS_GLASS: Record<Caller, Record<Target, GlassAnswer> | false | null> = {
  anonymous: null,
  case_worker: false,
  // The cercle of Kati: its sensitive case only with a second person's approval.
  supervisor: { in_area: 201, out_of_area: 404, sensitive: 202 },
  focal_point: false,
  programme_manager: { in_area: 201, out_of_area: 201, sensitive: 202 },
  administrator: false,
  partner: false,
  no_role: false,
}

interface Fixture {
  caseId: string
  taskId: string
  areaCode: string
  sensitive: boolean
  category: string
}

/** A syntactically valid body per write, so that a 422 is never a schema error in disguise. */
const BODIES: Record<string, (f: Fixture) => unknown> = {
  'POST /cases': (f) => ({
    communeCode: f.areaCode,
    channel: 'hotline',
    category: f.category,
    narrative: 'Reçu par la ligne verte : paiement non reçu',
    anonymous: true,
  }),
  'POST /cases/{id}/pause-sla': () => ({ reason: 'waiting_complainant' }),
  'POST /cases/{id}/resume-sla': () => ({}),
  'POST /cases/{id}/extend-sla': () => ({ byMs: 3_600_000, reason: 'terrain inaccessible' }),
  'POST /cases/{id}/satisfaction': () => ({ satisfaction: 'satisfied' }),
  'POST /cases/{id}/duplicate': () => ({ duplicateOf: ORIGINAL }),
  'POST /cases/{id}/withdraw': () => ({ reason: 'le plaignant retire sa plainte' }),
  'POST /cases/{id}/reopen': () => ({ reason: 'un élément nouveau' }),
  [BREAK_GLASS]: () => ({ reason: 'Danger immédiat signalé au numéro vert' }),
  'POST /cases/{id}/notes': () => ({ text: 'Appel du plaignant : pièces envoyées.' }),
  // The link target is the shared original case: a 422 when the caller may not see it.
  'POST /cases/{id}/links': () => ({ toCaseId: ORIGINAL, kind: 'related' }),
  'POST /tasks/{id}/claim': () => ({}),
  'POST /tasks/{id}/unclaim': () => ({}),
  'POST /tasks/{id}/reassign': () => ({ assigneeId: reassignee }),
  // The triage form, keeping the case's own category and sensitivity.
  'POST /tasks/{id}/complete': (f) => ({
    data: { category: f.category, sensitive: f.sensitive, priority: 'normal' },
  }),
}

/** How a list operation is narrowed to one target. */
const LIST_FILTERS: Record<string, (f: Fixture) => Record<string, string>> = {
  '/cases': (f) => ({ id: f.caseId }),
  '/tasks': (f) => ({ caseId: f.caseId }),
}

/** Ids that exist nowhere: the answer every hidden case or task must be indistinguishable from. */
const MISSING: Fixture = {
  caseId: 'AM-missing',
  taskId: 'AM-missing-T1',
  areaCode: 'ML-2-KATI-KATI',
  sensitive: false,
  category: 'payment_not_received',
}
/** A visible, open case that duplicates may point to. */
const ORIGINAL = 'AM-original'
/** A case of Kati linked to (and parented by) a sensitive case of Kati: the link fields' cells. */
const LINKED = { normal: 'AM-link-normal', sensitive: 'AM-link-gbv' }

// ---- The stack ----

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: ReturnType<typeof createApp>
let reassignee: string
const tokens: Partial<Record<Caller, string>> = {}
/** One fresh case per caller and target: a write in one cell never changes another cell. */
const fixtures = new Map<string, Fixture>()
const fixture = (caller: Caller, target: Target) => fixtures.get(`${caller}/${target}`)!
const caseIdFor = (caller: Caller, target: Target) =>
  `AM-${caller.replace(/_/g, '')}-${target.replace(/_/g, '')}`

interface Answer {
  status: number
  text: string
  code?: string
}

async function call(method: string, path: string, caller: Caller, body?: unknown): Promise<Answer> {
  const token = tokens[caller]
  const res = await app.request(path, {
    method,
    headers: {
      ...(token ? { authorization: `Bearer ${token}` } : {}),
      ...(body === undefined ? {} : { 'content-type': 'application/json' }),
    },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
  const text = await res.text()
  let code: string | undefined
  try {
    code = (JSON.parse(text) as { error?: { code?: string } }).error?.code
  } catch {
    code = undefined
  }
  return { status: res.status, text, code }
}

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
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
  for (const [caller, { username }] of Object.entries(CALLERS)) {
    if (!username) continue
    const id = await userId(tdb.db, username)
    tokens[caller] = (await createApiToken(tdb.db, { name: `matrix ${caller}`, userId: id })).token
  }
  reassignee = await userId(tdb.db, 'agent.kati.2')
  client = await connectTestClient()
  worker = await startTestWorker(tdb.db)
  app = createApp({
    db: tdb.db,
    temporal: client,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: worker.taskQueue,
    // The matrix probes hundreds of hidden ids per caller on purpose: not a flood to hold back.
    userLimits: { requestsPerMinute: 100_000, refusalsPerMinute: 100_000 },
  })

  const inputs = [
    grievanceInput({ caseId: ORIGINAL }),
    grievanceInput({ caseId: LINKED.normal, ...TARGETS.in_area }),
    grievanceInput({ caseId: LINKED.sensitive, ...TARGETS.sensitive }),
  ]
  for (const caller of Object.keys(CALLERS)) {
    for (const [target, overrides] of Object.entries(TARGETS) as [
      Target,
      Partial<OpenCaseInput>,
    ][]) {
      inputs.push(grievanceInput({ caseId: caseIdFor(caller, target), ...overrides }))
    }
  }
  await Promise.all(
    inputs.map((input) =>
      client.workflow.start('grievanceWorkflow', {
        workflowId: caseWorkflowId(input.caseId),
        taskQueue: worker.taskQueue,
        args: [input],
      }),
    ),
  )
  // Every case projected up to its open triage task.
  const triage = await eventually(
    async () => {
      const rows = await tdb.db
        .selectFrom('tasks')
        .select(['id', 'caseId'])
        .where('kind', '=', 'triage')
        .execute()
      return rows.length === inputs.length ? rows : undefined
    },
    { what: `${inputs.length} triage tasks projected` },
  )
  for (const input of inputs) {
    const task = triage.find((t) => t.caseId === input.caseId)!
    for (const caller of Object.keys(CALLERS)) {
      for (const target of Object.keys(TARGETS) as Target[]) {
        if (caseIdFor(caller, target) !== input.caseId) continue
        fixtures.set(`${caller}/${target}`, {
          caseId: input.caseId,
          taskId: task.id,
          areaCode: input.areaCode,
          sensitive: input.sensitive,
          category: input.category!,
        })
      }
    }
  }
}, 120_000)
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
})

// ---- The generator ----

interface Operation {
  method: string
  /** As documented, relative to /api: `/cases/{id}/pause-sla`. */
  path: string
  /** A read of a collection, a write to a collection (create), or an operation on one id. */
  kind: 'list' | 'create' | 'item'
  name: string
}

async function documentedOperations(): Promise<Operation[]> {
  const res = await app.request('/api/openapi.json')
  const doc = (await res.json()) as { paths: Record<string, Record<string, unknown>> }
  const ops = Object.entries(doc.paths)
    .filter(([path]) => /^\/(cases|tasks)(\/|$)/.test(path))
    .flatMap(([path, methods]) =>
      Object.keys(methods).map((m) => ({
        method: m.toUpperCase(),
        path,
        kind: path.includes('{id}')
          ? ('item' as const)
          : m === 'get'
            ? ('list' as const)
            : ('create' as const),
        name: `${m.toUpperCase()} ${path}`,
      })),
    )
  // Reads first, then writes that leave the case open, then those that close it.
  const rank = (op: Operation) =>
    op.method === 'GET' ? 0 : CLOSING.includes(op.path) ? 2 + CLOSING.indexOf(op.path) : 1
  return ops.sort((a, b) => rank(a) - rank(b))
}

const urlFor = (op: Operation, f: Fixture) =>
  '/api' + op.path.replace('{id}', op.path.startsWith('/tasks') ? f.taskId : f.caseId)

const bodyFor = (op: Operation, f: Fixture) =>
  op.method === 'GET' ? undefined : (BODIES[op.name] ?? (() => ({})))(f)

const ids = (text: string) => {
  try {
    const rows = JSON.parse(text) as { id: string }[]
    return Array.isArray(rows) ? rows.map((r) => r.id) : null
  } catch {
    return null
  }
}

/** Runs one cell: the expected outcome from the rule table, a failure message if it differs. */
async function check(
  op: Operation,
  caller: Caller,
  target: Target,
  missing: Map<string, Answer>,
): Promise<string | undefined> {
  const f = fixture(caller, target)
  const label = `${op.name} as ${caller} on ${target} (${f.caseId})`
  const sees = CALLERS[caller]!.sees
  if (op.kind === 'create') {
    const got = await call(op.method, `/api${op.path}`, caller, bodyFor(op, f))
    const may = REGISTERS[caller]
    if (may === null) {
      return got.status === 401 ? undefined : `${label}: expected 401, got ${show(got)}`
    }
    if (!may) return `${label}: no REGISTERS entry for this caller`
    const ok = may[target]
      ? got.status >= 200 && got.status < 300
      : got.status === 403 && got.code === 'NOT_ALLOWED'
    return ok
      ? undefined
      : `${label}: expected ${may[target] ? '2xx' : '403 NOT_ALLOWED'}, got ${show(got)}`
  }
  if (op.kind === 'list') {
    const filter = LIST_FILTERS[op.path]
    if (!filter) return `${label}: no LIST_FILTERS entry for this list`
    const query = new URLSearchParams({ filter: JSON.stringify(filter(f)) })
    const got = await call('GET', `/api${op.path}?${query}`, caller)
    if (sees === null) {
      return got.status === 401 ? undefined : `${label}: expected 401, got ${show(got)}`
    }
    if (got.status !== 200) return `${label}: expected 200, got ${show(got)}`
    const listed = ids(got.text) ?? []
    const expected = sees[target] ? [op.path === '/tasks' ? f.taskId : f.caseId] : []
    return JSON.stringify(listed) === JSON.stringify(expected)
      ? undefined
      : `${label}: expected the list ${JSON.stringify(expected)}, got ${show(got)}`
  }

  const got = await call(op.method, urlFor(op, f), caller, bodyFor(op, f))
  if (op.name === BREAK_GLASS) {
    const may = BREAKS_GLASS[caller]
    if (may === null) {
      return got.status === 401 ? undefined : `${label}: expected 401, got ${show(got)}`
    }
    if (!may) {
      return got.status === 403 && got.code === 'NOT_ALLOWED'
        ? undefined
        : `${label}: expected 403 NOT_ALLOWED, got ${show(got)}`
    }
    if (may[target] === 404) {
      const absent = missing.get(`${caller} ${op.name}`)!
      return got.status === 404 && got.text === absent.text
        ? undefined
        : `${label}: expected the 404 of a missing id ${absent.text}, got ${show(got)}`
    }
    return got.status === may[target]
      ? undefined
      : `${label}: expected ${may[target]}, got ${show(got)}`
  }
  if (sees === null) {
    return got.status === 401 && got.code === 'UNAUTHENTICATED'
      ? undefined
      : `${label}: expected 401 UNAUTHENTICATED, got ${show(got)}`
  }
  if (!sees[target]) {
    const absent = missing.get(`${caller} ${op.name}`)!
    return got.status === 404 && got.text === absent.text
      ? undefined
      : `${label}: expected the 404 of a missing id ${absent.text}, got ${show(got)}`
  }
  if (op.method === 'GET') {
    return got.status === 200 ? undefined : `${label}: expected 200, got ${show(got)}`
  }
  return judgedOnMerits(got.status, got.code)
    ? undefined
    : `${label}: expected a judgement on the merits (2xx, 409, 422, 403 ${MERITS_403.join('/')}), got ${show(got)}`
}

const show = (a: Answer) => `${a.status} ${a.text.slice(0, 300)}`

describe('the authorization matrix, generated from the OpenAPI document', () => {
  it('every operation × every caller × in area / out of area / sensitive', async () => {
    const ops = await documentedOperations()
    const failures: string[] = []

    // The document must list the operations this file knows how to exercise, and no write
    // may go unexercised for want of a body.
    expect(ops.filter((o) => o.kind === 'list').map((o) => o.path)).toEqual(
      expect.arrayContaining(Object.keys(LIST_FILTERS)),
    )
    for (const op of ops) {
      if (op.method !== 'GET' && !BODIES[op.name]) failures.push(`${op.name}: no body in BODIES`)
      if (op.kind === 'list' && !LIST_FILTERS[op.path]) failures.push(`${op.name}: no filter`)
    }

    // The reference answers: each operation on ids that exist nowhere. A 404 here (rather than
    // a 422) also proves that the body sent is valid for the operation's schema.
    const missing = new Map<string, Answer>()
    for (const caller of Object.keys(CALLERS).filter((c) => CALLERS[c]!.sees !== null)) {
      for (const op of ops.filter((o) => o.kind === 'item')) {
        const got = await call(op.method, urlFor(op, MISSING), caller, bodyFor(op, MISSING))
        missing.set(`${caller} ${op.name}`, got)
        if (op.name === BREAK_GLASS && !BREAKS_GLASS[caller]) {
          // Refused for the role before the case is even looked up.
          if (got.status !== 403)
            failures.push(`${op.name} as ${caller}: expected 403, got ${show(got)}`)
          continue
        }
        if (got.status !== 404) {
          failures.push(`${op.name} as ${caller} on a missing id: expected 404, got ${show(got)}`)
        }
      }
    }

    // Cells of one caller and target share a case and run in order; cells on other cases run
    // alongside.
    let checks = 0
    const cells = Object.keys(CALLERS).flatMap((caller) =>
      (Object.keys(TARGETS) as Target[]).map(async (target) => {
        for (const op of ops) {
          checks++
          const failure = await check(op, caller, target, missing)
          if (failure) failures.push(failure)
        }
      }),
    )
    await Promise.all(cells)

    expect(failures).toEqual([])
    expect(checks).toBe(ops.length * Object.keys(CALLERS).length * Object.keys(TARGETS).length)
    expect(ops.length).toBeGreaterThanOrEqual(16)
  }, 60_000)

  it('callers without a role that sees cases get empty lists, not an error', async () => {
    for (const caller of ['administrator', 'partner', 'no_role']) {
      for (const path of ['/api/cases', '/api/tasks']) {
        const res = await app.request(path, {
          headers: { authorization: `Bearer ${tokens[caller]}` },
        })
        expect(res.status, `${path} as ${caller}`).toBe(200)
        expect(await res.json(), `${path} as ${caller}`).toEqual([])
        expect(res.headers.get('content-range'), `${path} as ${caller}`).toMatch(/^\w+ \*\/0$/)
      }
    }
  })
})

// ---- Link fields ----

/**
 * A case the caller may see, linked to a sensitive one it may not: the sensitive case's id
 * appears nowhere in any read of the visible one (`live.links`, the timeline's `case.linked`
 * and `case.spawned`, the row's parent, the list), exactly as the chain already hides it. The
 * focal point, who may see both, is the control that the fields do carry the id.
 */
describe('link fields, generated from the OpenAPI document', () => {
  it('never name a sensitive case to a caller without clearance', async () => {
    const linked = await call('POST', `/api/cases/${LINKED.normal}/links`, 'focal_point', {
      toCaseId: LINKED.sensitive,
      kind: 'related',
    })
    expect(linked.status, linked.text).toBe(200)
    // The other shapes a case id takes in a case answer: a spawned case, a parent.
    await tdb.db
      .insertInto('caseEvents')
      .values({
        caseId: LINKED.normal,
        workflowId: caseWorkflowId(LINKED.normal),
        seq: 100_000,
        type: 'case.spawned',
        occurredAt: new Date(),
        after: { toCaseId: LINKED.sensitive, kind: 'reverification' },
      })
      .execute()
    await tdb.db
      .updateTable('cases')
      .set({ parentCaseId: LINKED.sensitive })
      .where('id', '=', LINKED.normal)
      .execute()

    const ops = (await documentedOperations()).filter(
      (o) => o.method === 'GET' && o.path.startsWith('/cases'),
    )
    const urls = [
      ...ops.map((op) =>
        op.kind === 'list'
          ? `/api${op.path}?${new URLSearchParams({ filter: JSON.stringify({ id: LINKED.normal }) })}`
          : `/api${op.path.replace('{id}', LINKED.normal)}`,
      ),
      `/api/cases?${new URLSearchParams({ filter: JSON.stringify({ q: 'AM-link' }) })}`,
    ]
    const failures: string[] = []
    for (const caller of ['case_worker', 'supervisor', 'programme_manager'] as const) {
      for (const url of urls) {
        const got = await call('GET', url, caller)
        if (got.status !== 200) failures.push(`${url} as ${caller}: ${show(got)}`)
        if (got.text.includes(LINKED.sensitive)) {
          failures.push(`${url} as ${caller} names the sensitive case: ${show(got)}`)
        }
      }
      const detail = JSON.parse(
        (await call('GET', `/api/cases/${LINKED.normal}`, caller)).text,
      ) as { live: { links?: unknown[] } | null; timeline: { type: string }[]; parentCaseId: null }
      // Redacted, not emptied: the rest of the case is still there.
      expect(detail.live?.links, caller).toEqual([])
      expect(detail.parentCaseId, caller).toBeNull()
      expect(
        detail.timeline.map((e) => e.type),
        caller,
      ).toContain('case.opened')
      expect(
        detail.timeline.map((e) => e.type),
        caller,
      ).not.toContain('case.linked')
    }
    expect(failures).toEqual([])

    const control = JSON.parse(
      (await call('GET', `/api/cases/${LINKED.normal}`, 'focal_point')).text,
    ) as {
      live: { links: { toCaseId: string }[] }
      timeline: { type: string }[]
      parentCaseId: string
    }
    expect(control.live.links).toEqual([{ toCaseId: LINKED.sensitive, kind: 'related' }])
    expect(control.parentCaseId).toBe(LINKED.sensitive)
    expect(control.timeline.map((e) => e.type)).toEqual(
      expect.arrayContaining(['case.linked', 'case.spawned']),
    )
    expect(ops.length).toBeGreaterThanOrEqual(3)
  }, 60_000)
})

// ---- Path tricks ----

/**
 * Spellings of protected paths that a router or a proxy may read differently. None may answer
 * an anonymous caller with anything but 401 (or 400/404 for a path that leads nowhere), nor
 * show a case outside a signed-in caller's scope.
 */
const tricks = (hidden: string, hiddenTask: string) => [
  '//api/cases',
  '/api//cases',
  '/api/cases/',
  '/api/cases/.',
  '/api/cases//',
  '/API/CASES',
  '/api/Cases',
  '/api/CASES/' + hidden,
  '/api/cases?',
  '/api/cases#',
  '/api/cases/?#',
  '/api/%63ases',
  '/api%2Fcases',
  '/api/cases%2F' + hidden,
  // Encoded dots: resolved by the URL standard before routing, onto a protected path.
  '/api/health/%2e%2e/cases',
  '/api/health/%2E%2E/cases/' + hidden,
  '/api/public/.%2e/cases/' + hidden,
  '/api/tasks/%2e%2e/cases/' + hidden,
  '/api/health/live/../../cases/' + hidden,
  `/api/cases/${hidden}`,
  `/api/cases/${hidden}/`,
  `/api/cases/${hidden}.`,
  `/api/cases/${hidden}%2F..`,
  `/api/cases/${hidden}%2F..%2F..%2Fhealth%2Flive`,
  `/api/cases/${hidden}%00`,
  `/api/cases/${hidden}%2500`,
  `/api/cases/${hidden}?`,
  `/api/cases/${hidden}#`,
  `/api/cases/${hidden}/events`,
  `/api/cases/${hidden}/events/`,
  `/api/cases/${hidden}%2Fevents`,
  `/api/cases/${encodeURIComponent(`${hidden}/`)}`,
  `/api/cases/%20${hidden}`,
  `/api/cases/${hidden}%20`,
  `/api/cases/${hidden}%09`,
  `/api/cases/;${hidden}`,
  `/api/cases/${hidden};x`,
  `/api/tasks/${hiddenTask}`,
  `/api/tasks/${hiddenTask}.`,
  `/api/tasks/${hiddenTask}%00`,
  `/api/tasks/${encodeURIComponent(`${hiddenTask}/x`)}`,
  '/api/tasks/',
  '/API/TASKS',
  // A NUL in a query parameter that reaches SQL.
  `/api/cases?filter=%7B%22id%22%3A%22${hidden}%00%22%7D`,
  `/api/cases?filter=%7B%22q%22%3A%22AM%0A%22%7D`,
]

/** Sends `path` byte for byte over a real socket, as an attacker's client would. */
function raw(
  base: string,
  path: string,
  token?: string,
): Promise<{ status: number; text: string }> {
  const url = new URL(base)
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      {
        host: url.hostname,
        port: url.port,
        method: 'GET',
        path,
        headers: token ? { authorization: `Bearer ${token}` } : {},
      },
      (res) => {
        let text = ''
        res.setEncoding('utf8')
        res.on('data', (chunk: string) => (text += chunk))
        res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
      },
    )
    req.on('error', reject)
    req.end()
  })
}

describe('path tricks', () => {
  let server: ApiServer
  beforeAll(async () => {
    server = await serveApi(app, '127.0.0.1', 0)
  })
  afterAll(async () => {
    await server?.close()
  })

  it('never pass authentication or scoping, in process or over a real socket', async () => {
    // The case worker of Kati asks for the case of Kayes it may not see.
    const hidden = fixture('case_worker', 'out_of_area')
    const failures: string[] = []
    const via = {
      'app.request': async (path: string, token?: string) => {
        const res = await app.request(path, {
          headers: token ? { authorization: `Bearer ${token}` } : {},
        })
        return { status: res.status, text: await res.text() }
      },
      socket: (path: string, token?: string) => raw(server.url, path, token),
    }
    let checks = 0
    for (const [how, send] of Object.entries(via)) {
      for (const path of tricks(hidden.caseId, hidden.taskId)) {
        checks += 3
        const anonymous = await send(path)
        if (![400, 401, 404].includes(anonymous.status)) {
          failures.push(
            `${how} ${path} as anonymous: expected 401/404/400, got ${anonymous.status}`,
          )
        }
        for (const caller of ['case_worker', 'no_role'] as const) {
          const got = await send(path, tokens[caller])
          const names = path.includes(hidden.caseId) || path.includes(hidden.taskId)
          // A path naming the hidden case is refused; a list spelled oddly shows only the
          // caller's own cases (none for a user without a role). Never a server error.
          if (names ? ![400, 404].includes(got.status) : got.status >= 500) {
            failures.push(`${how} ${path} as ${caller}: expected 404/400, got ${show(got)}`)
          }
          if (got.text.includes(hidden.caseId) && got.status < 400) {
            failures.push(`${how} ${path} as ${caller}: shows the hidden case: ${show(got)}`)
          }
          if (caller === 'no_role' && got.status === 200 && (ids(got.text)?.length ?? 0) > 0) {
            failures.push(`${how} ${path} as ${caller}: a list with cases: ${show(got)}`)
          }
        }
      }
    }
    expect(failures).toEqual([])
    expect(checks).toBeGreaterThan(200)
  })

  // A NUL written as a JSON escape inside a list filter is no control character in the URL: the
  // list parser refuses it (PostgreSQL text cannot hold it).
  it('a JSON-escaped NUL in a list filter is a 4xx, not a 500', async () => {
    const filter = encodeURIComponent('{"id":"AM-x\\u0000"}')
    const res = await app.request(`/api/cases?filter=${filter}`, {
      headers: { authorization: `Bearer ${tokens.case_worker}` },
    })
    expect(res.status).toBe(400)
  })

  it('an encoded dot-dot out of /cases lands on the public route, as the URL standard says', async () => {
    // `%2e%2e` is `..` for every URL parser: the request never reaches /cases, so nothing of
    // a case can leak; it answers exactly like the route it resolves to.
    const dotted = await app.request('/api/cases/%2e%2e/health/live')
    const plain = await app.request('/api/health/live')
    expect(dotted.status).toBe(plain.status)
    expect(await dotted.text()).not.toContain('AM-')
  })
})
