import { randomUUID } from 'node:crypto'
import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../api/auth/types'
import { reverificationsRoutes } from '../../api/routes/reverifications'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, type RunningWorker } from '../helpers/temporal'

/**
 * Campaigns start their re-verifications on a task queue that no worker polls: starting the
 * cases is what is under test here, and a started workflow waits there, cheaply, until a worker
 * comes. (The case itself, once a worker runs it, is test/workflows/reverification.test.ts.)
 * 600 lines: two batches of the activity (500 a batch), so progress shows between them. The
 * 10,000-line campaign and its rate are benchmark S7 (`npm run bench -- --only S7`).
 */
const idleQueue = `idle-${randomUUID()}`
const HOUSEHOLDS = 600

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  const ids = Array.from({ length: HOUSEHOLDS }, (_, i) => `HH-${String(i + 1).padStart(6, '0')}`)
  for (let i = 0; i < ids.length; i += 2_000) {
    await tdb.db
      .insertInto('households')
      .values(
        ids
          .slice(i, i + 2_000)
          .map((id) => ({ id, areaCode: 'ML-2-KATI-KATI', members: 5, pmtScore: 30 })),
      )
      .execute()
  }
  client = await connectTestClient()
  worker = await startRegistryWorker(tdb.db, { client })
  app = appSignedInByHeader(tdb.db, (api) => {
    api.route(
      '/api/reverifications',
      reverificationsRoutes({
        db: tdb.db,
        temporal: client,
        taskQueue: worker.taskQueue,
        campaignTaskQueue: idleQueue,
      }),
    )
  })
}, 120_000)

afterAll(async () => {
  // The started cases would wait forever on their idle queue: terminate them in one batch.
  await client?.workflowService
    .startBatchOperation({
      namespace: client.options.namespace,
      jobId: randomUUID(),
      visibilityQuery: `TaskQueue = '${idleQueue}'`,
      reason: 'test cleanup',
      terminationOperation: {},
    })
    .catch(() => undefined)
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
}, 300_000)

const upload = (user: string, csv: string, contentType = 'text/csv') =>
  app.request('/api/reverifications/campaigns?name=recertification-kati', {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': contentType },
    body: csv,
  })
const progress = async (id: string, user = 'gestionnaire') => {
  const res = await app.request(`/api/reverifications/campaigns/${id}`, {
    headers: { 'x-test-user': user },
  })
  expect(res.status).toBe(200)
  return (await res.json()) as {
    id: string
    status: string
    total: number
    pending: number
    started: number
    failed: number
    errors: { line: number; code: string }[]
  }
}
const idleCount = async () => (await client.workflow.count(`TaskQueue = '${idleQueue}'`)).count

describe('a re-verification campaign from CSV', () => {
  // The file: a header, 600 households, and five bad lines among them.
  const lines = ['household_id']
  for (let i = 1; i <= HOUSEHOLDS; i++) {
    lines.push(`HH-${String(i).padStart(6, '0')}`)
    if (i === 10) lines.push('"HH-000011"x') // a stray quote
    if (i === 50) lines.push('HH-000051,extra') // a column too many
    if (i === 200) lines.push('pas un identifiant!') // not an id
    if (i === 300) lines.push('HH-000001') // already on line 2
    if (i === 550) lines.push('HH-999999') // no such household
  }
  const csv = lines.join('\n') + '\n'
  // Line numbers in the file (1 = the header): 2 + (households before) + (bad lines before).
  const expectedErrors = [
    { line: 12, code: 'MALFORMED_LINE' },
    { line: 53, code: 'MALFORMED_LINE' },
    { line: 204, code: 'INVALID_HOUSEHOLD_ID' },
    { line: 305, code: 'DUPLICATE_HOUSEHOLD' },
    { line: 556, code: 'UNKNOWN_HOUSEHOLD' },
  ]

  it('starts 600 re-verifications with visible progress and reports the bad lines by number', async () => {
    const res = await upload('gestionnaire', csv)
    expect(res.status).toBe(201)
    const created = (await res.json()) as Awaited<ReturnType<typeof progress>>
    expect(created.total).toBe(HOUSEHOLDS + 5)
    expect(created.failed).toBe(5)
    expect(created.errors.map(({ line, code }) => ({ line, code }))).toEqual(expectedErrors)

    // Progress moves while the background workflow starts the cases, until all are started.
    const seen = new Set<number>()
    const done = await eventually(
      async () => {
        const p = await progress(created.id)
        seen.add(p.started)
        // Done once the campaign says so (its last batch is counted before its status changes).
        return p.status === 'started' ? p : undefined
      },
      { what: '600 cases started', timeoutMs: 120_000 },
    )
    expect(done).toMatchObject({ status: 'started', started: HOUSEHOLDS, pending: 0, failed: 5 })
    expect(seen.size, 'progress was visible between 0 and the end').toBeGreaterThan(1)
    await eventually(async () => ((await idleCount()) === HOUSEHOLDS ? true : undefined), {
      what: '600 workflows visible to Temporal',
      timeoutMs: 120_000,
    })
    // The bad lines changed nothing: no case for them, every good line has its own.
    const lineRows = await tdb.db
      .selectFrom('campaignLines')
      .select(['lineNo', 'status', 'caseId', 'householdId'])
      .where('campaignId', '=', created.id)
      .execute()
    const failed = lineRows.filter((l) => l.status === 'failed')
    expect(failed.every((l) => l.caseId === null && l.householdId === null)).toBe(true)
    expect(new Set(lineRows.filter((l) => l.caseId).map((l) => l.caseId)).size).toBe(HOUSEHOLDS)
  }, 240_000)

  it('starts nothing twice when the same file is uploaded again', async () => {
    const before = await idleCount()
    expect(before).toBe(HOUSEHOLDS)
    const res = await upload('gestionnaire', csv)
    expect(res.status).toBe(200)
    const again = (await res.json()) as Awaited<ReturnType<typeof progress>>
    expect(again).toMatchObject({ started: HOUSEHOLDS, failed: 5, pending: 0 })
    expect(
      await tdb.db.selectFrom('campaigns').select('id').execute(),
      'one campaign for one file',
    ).toHaveLength(1)
    expect(await idleCount()).toBe(before)
  })

  it('refuses a file without a household_id column, and changes nothing', async () => {
    const res = await upload('gestionnaire', 'menage\nHH-000001\n')
    expect(res.status).toBe(422)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'CSV_HEADER_MISSING',
    )
    expect(await tdb.db.selectFrom('campaigns').select('id').execute()).toHaveLength(1)
  })

  it('is for supervisors and managers, and a campaign is read by its uploader or a manager', async () => {
    const res = await upload('agent.kati.1', 'household_id\nHH-000001\n')
    expect(res.status).toBe(403)
    const other = await app.request('/api/reverifications/campaigns/CMP-000000000000', {
      headers: { 'x-test-user': 'gestionnaire' },
    })
    expect(other.status).toBe(404)
  })

  it('accepts the file as a multipart form too', async () => {
    const form = new FormData()
    form.set('file', new File(['household_id\nHH-000001\nHH-000002\n'], 'petit.csv'))
    const res = await app.request('/api/reverifications/campaigns', {
      method: 'POST',
      headers: { 'x-test-user': 'superviseur.cercle.kati' },
      body: form,
    })
    expect(res.status).toBe(201)
    const created = (await res.json()) as { id: string; total: number }
    expect(created.total).toBe(2)
    const done = await eventually(
      async () => {
        const p = await progress(created.id, 'superviseur.cercle.kati')
        return p.status === 'started' ? p : undefined
      },
      { what: 'the small campaign started' },
    )
    expect(done.started).toBe(2)
  })
})
