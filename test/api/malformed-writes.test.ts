import type { Client } from '@temporalio/client'
import fc from 'fast-check'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId, grievanceViewQuery } from '../../workflows/messages'
import { testCodec } from '../helpers/codec'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { grievanceInput, userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

/**
 * Property-based: malformed bodies, parameters and headers thrown at every write endpoint of the
 * OpenAPI document (by a supervisor whose scope covers the case, so that validation is what is
 * tested) always get a 4xx in the one error shape, never a 500, and never change any state.
 */
let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: ReturnType<typeof createApp>
let token: string
let caseId: string
let taskId: string

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  app = createApp({
    db: tdb.db,
    temporal: client,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: worker.taskQueue,
  })
  token = (
    await createApiToken(tdb.db, {
      name: 'fuzz',
      userId: await userId(tdb.db, 'superviseur.cercle.kati'),
    })
  ).token
  const input = grievanceInput()
  caseId = input.caseId
  const handle = await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  taskId = await eventually(async () => {
    const view = await handle.query(grievanceViewQuery).catch(() => undefined)
    const task = view?.tasks[0]
    if (!task) return undefined
    const row = await tdb.db
      .selectFrom('tasks')
      .select('id')
      .where('id', '=', task.id)
      .executeTakeFirst()
    return row?.id
  })
}, 60_000)
afterAll(() => stopCaseStack({ tdb, client, worker }))

/** Everything a write could change. */
const state = async () => {
  const { rows } = await sql<Record<string, number>>`
    select (select count(*) from cases)::int as cases,
           (select count(*) from case_events)::int as events,
           (select count(*) from tasks)::int as tasks,
           (select count(*) from notification_outbox)::int as outbox,
           (select count(*) from case_tracking)::int as tracking,
           (select count(*) from users)::int as users,
           (select string_agg(status || assignee_id::text, ',' order by id) from tasks) as task_state,
           (select string_agg(stage || status || sla_state, ',' order by id) from cases) as case_state`.execute(
    tdb.db,
  )
  return rows[0]
}

/** JSON that no endpoint accepts: wrong top-level types, or objects whose every field is junk. */
const junkValue = fc.oneof(
  fc.constant(null),
  fc.integer(),
  fc.double(),
  fc.boolean(),
  fc.string({ maxLength: 3 }),
  fc.array(fc.integer(), { maxLength: 3 }),
  fc.constant('x'.repeat(6000)),
)
const malformedBody = (fields: string[]) =>
  fc.oneof(
    junkValue.map((v) => JSON.stringify(v)),
    fc.string({ maxLength: 40 }).map((s) => `{${s}`),
    fc.constant(''),
    fields.length
      ? fc
          .tuple(...fields.map(() => junkValue))
          .map((values) => JSON.stringify(Object.fromEntries(fields.map((f, i) => [f, values[i]]))))
      : junkValue.map((v) => JSON.stringify(v)),
  )
const weirdHeaders = fc.record(
  {
    'content-type': fc.constantFrom('application/json', 'text/plain', 'application/xml', ''),
    'idempotency-key': fc.oneof(fc.string({ maxLength: 8 }), fc.constant('k'.repeat(300))),
    'x-csrf-token': fc.string({ maxLength: 10 }),
  },
  { requiredKeys: ['content-type'] },
)

/** Every write of the OpenAPI document, with the fields its JSON body declares. */
async function writeEndpoints() {
  const doc = (await (await app.request('/api/openapi.json')).json()) as {
    paths: Record<
      string,
      Record<
        string,
        {
          requestBody?: {
            content?: Record<
              string,
              { schema?: { properties?: Record<string, unknown>; $ref?: string } }
            >
          }
        }
      >
    >
    components?: { schemas?: Record<string, { properties?: Record<string, unknown> }> }
  }
  return Object.entries(doc.paths).flatMap(([path, ops]) =>
    Object.entries(ops)
      .filter(([method]) => ['post', 'put', 'patch', 'delete'].includes(method))
      .map(([method, op]) => {
        const schema = op.requestBody?.content?.['application/json']?.schema
        const resolved = schema?.$ref
          ? doc.components?.schemas?.[schema.$ref.split('/').pop()!]
          : schema
        return {
          method: method.toUpperCase(),
          path,
          fields: Object.keys(resolved?.properties ?? {}),
        }
      })
      // Sign-out ignores any body: there is nothing to malform.
      .filter((w) => w.path !== '/auth/sign-out'),
  )
}

describe('malformed writes', () => {
  it('get a 4xx with the error shape at every write endpoint, never a 500, never a change', async () => {
    const writes = await writeEndpoints()
    expect(writes.length).toBeGreaterThan(15)
    const before = await state()
    const failures: string[] = []
    for (const { method, path, fields } of writes) {
      await fc
        .assert(
          fc.asyncProperty(
            malformedBody(fields),
            weirdHeaders,
            fc.constantFrom(caseId, taskId, 'G-NOPE', '%00', 'a'.repeat(300)),
            async (body, headers, id) => {
              const url = `/api${path.replace(/\{[^}]+\}/g, (p) => (p === '{id}' && path.startsWith('/tasks') && id === caseId ? taskId : encodeURIComponent(id)))}`
              const response = await app.request(url, {
                method,
                body,
                headers: { ...headers, authorization: `Bearer ${token}` },
              })
              const text = await response.text()
              let code: string | undefined
              try {
                code = (JSON.parse(text) as { error?: { code?: string } }).error?.code
              } catch {
                code = undefined
              }
              const ok = response.status >= 400 && response.status < 500 && typeof code === 'string'
              if (!ok)
                failures.push(
                  `${method} ${url} ${body.slice(0, 60)} → ${response.status} ${text.slice(0, 120)}`,
                )
              return ok
            },
          ),
          { numRuns: 25, seed: 20261129 },
        )
        .catch(() => undefined)
    }
    expect(failures).toEqual([])
    expect(await state()).toEqual(before)
  }, 120_000)

  it('with a control character in any field, at any write (public ones too), get 400 VALIDATION_FAILED naming the field, before anything else', async () => {
    const writes = await writeEndpoints()
    const withFields = writes.filter((w) => w.fields.length)
    expect(withFields.map((w) => w.path)).toEqual(
      expect.arrayContaining(['/public/grievances', '/public/track', '/auth/sign-in', '/users']),
    )
    const before = await state()
    const failures: string[] = []
    for (const { method, path, fields } of withFields) {
      await fc
        .assert(
          fc.asyncProperty(
            fc.constantFrom(...fields),
            fc.string({ maxLength: 8 }),
            fc.constantFrom('\u0000', '\u0001', '\u0008', '\u000b', '\u001b', '\u007f', '\u0085'),
            fc.string({ maxLength: 8 }),
            fc.boolean(),
            async (field, head, control, tail, signedIn) => {
              const url = `/api${path.replace(/\{[^}]+\}/g, caseId)}`
              const response = await app.request(url, {
                method,
                body: JSON.stringify({ [field]: `${head}${control}${tail}` }),
                headers: {
                  'content-type': 'application/json',
                  ...(signedIn ? { authorization: `Bearer ${token}` } : {}),
                },
              })
              const json = (await response.json().catch(() => ({}))) as {
                error?: { code?: string; details?: { path: string }[] }
              }
              const ok =
                response.status === 400 &&
                json.error?.code === 'VALIDATION_FAILED' &&
                json.error.details?.[0]?.path === field
              if (!ok)
                failures.push(
                  `${method} ${url} ${field} → ${response.status} ${JSON.stringify(json)}`,
                )
              return ok
            },
          ),
          { numRuns: 15, seed: 20261204 },
        )
        .catch(() => undefined)
    }
    // Nested fields and keys too.
    for (const [url, body, field] of [
      [
        '/api/public/grievances',
        { communeCode: 'ML-2-KATI-KATI', contact: { email: 'a\u0000@b.ml' } },
        'contact.email',
      ],
      [
        '/api/users',
        { roles: [{ role: 'case_worker', areaCode: 'ML\u0000' }] },
        'roles.0.areaCode',
      ],
      ['/api/public/track', { ['pin\u0000']: '123456' }, 'pin\u0000'],
    ] as const) {
      const response = await app.request(url, {
        method: 'POST',
        body: JSON.stringify(body),
        headers: { 'content-type': 'application/json', authorization: `Bearer ${token}` },
      })
      const json = (await response.json()) as {
        error: { code: string; details: { path: string }[] }
      }
      if (response.status !== 400 || json.error.details[0]?.path !== field)
        failures.push(`${url} ${field} → ${response.status} ${JSON.stringify(json)}`)
    }
    // A campaign's name in a form, its file, or a CSV sent as such.
    const form = new FormData()
    form.set('name', 'Campagne\u0000 Kati')
    form.set('file', new File(['household_id\nHH-0001\n'], 'c.csv', { type: 'text/csv' }))
    const withFile = new FormData()
    withFile.set('file', new File(['household_id\nHH-\u00000001\n'], 'c.csv'))
    for (const [body, headers, field] of [
      [form, {}, 'name'],
      [withFile, {}, 'file'],
      ['household_id\nHH-\u00000001\n', { 'content-type': 'text/csv' }, ''],
    ] as const) {
      const response = await app.request('/api/reverifications/campaigns', {
        method: 'POST',
        body,
        headers: { ...headers, authorization: `Bearer ${token}` },
      })
      const json = (await response.json()) as {
        error: { code: string; details: { path: string }[] }
      }
      if (response.status !== 400 || json.error.details[0]?.path !== field)
        failures.push(`campaign ${field} → ${response.status} ${JSON.stringify(json)}`)
    }
    expect(failures).toEqual([])
    expect(await state()).toEqual(before)
  }, 120_000)
})
