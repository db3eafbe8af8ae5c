import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../api/auth/types'
import { reverificationsRoutes } from '../../api/routes/reverifications'
import { tasksRoutes } from '../../api/routes/tasks'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
  // No REGISTRY_URL: the households table is the registry.
  worker = await startRegistryWorker(tdb.db, { client })
  app = appSignedInByHeader(tdb.db, (api) => {
    const deps = { db: tdb.db, temporal: client, taskQueue: worker.taskQueue }
    api.route('/api/reverifications', reverificationsRoutes(deps))
    api.route('/api/tasks', tasksRoutes(deps))
  })
})
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
})

const post = (path: string, user: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code

type Detail = {
  id: string
  householdId: string
  stage: string
  live: { stage: string; tasks: { id: string; kind: string; assigneeId: string | null }[] } | null
  scores: { score: number; formulaVersion: string }[]
  registryWrites: { status: string }[]
}

describe('re-verifying one household through the API', () => {
  it('is started by a supervisor of its area, once at a time, and completed through the tasks API', async () => {
    expect(
      (await post('/api/reverifications', 'agent.kati.1', { householdId: 'RSU-0000003' })).status,
    ).toBe(403)
    // Outside the supervisor's areas: answered as a household that does not exist.
    const elsewhere = await post('/api/reverifications', 'superviseur.cercle.kati', {
      householdId: 'RSU-0000005',
    })
    expect(elsewhere.status).toBe(404)

    const res = await post('/api/reverifications', 'superviseur.cercle.kati', {
      householdId: 'RSU-0000003',
    })
    expect(res.status).toBe(201)
    const { id } = (await res.json()) as { id: string }
    const opened = await eventually(
      async () => {
        const r = await get(`/api/reverifications/${id}`, 'superviseur.cercle.kati')
        if (r.status !== 200) return undefined
        const d = (await r.json()) as Detail
        return d.live?.tasks.some((t) => t.kind === 'visit') ? d : undefined
      },
      { what: 'the visit task' },
    )
    expect(opened).toMatchObject({ householdId: 'RSU-0000003', stage: 'visit' })
    const again = await post('/api/reverifications', 'superviseur.cercle.kati', {
      householdId: 'RSU-0000003',
    })
    expect(again.status).toBe(409)
    expect(await code(again)).toBe('REVERIFICATION_OPEN')

    // The enumerator's visit through the generic tasks API; bad data is refused with its code.
    const visit = opened.live!.tasks.find((t) => t.kind === 'visit')!
    const enumerator = await tdb.db
      .selectFrom('users')
      .select('username')
      .where('id', '=', visit.assigneeId!)
      .executeTakeFirstOrThrow()
    const bad = await post(`/api/tasks/${visit.id}/complete`, enumerator.username, {
      data: { outcome: 'visited', members: 0, variables: {} },
    })
    expect(bad.status).toBe(422)
    expect(await code(bad)).toBe('INVALID_FORM')
    const done = await post(`/api/tasks/${visit.id}/complete`, enumerator.username, {
      data: { outcome: 'visited', members: 6, variables: { rooms: 3, improved_roof: 1 } },
    })
    expect(done.status).toBe(200)
    const scored = await eventually(
      async () => {
        const d = (await (
          await get(`/api/reverifications/${id}`, 'superviseur.cercle.kati')
        ).json()) as Detail
        return d.scores.length && d.live?.tasks.some((t) => t.kind === 'approval') ? d : undefined
      },
      { what: 'the score and the approval task' },
    )
    // 40 − 2×6 + 1.5×3 + 4×1 = 36.5 under the formula in force.
    expect(scored.scores).toEqual([
      expect.objectContaining({ score: 36.5, formulaVersion: 'pmt-2026-v1', eligible: false }),
    ])
    const approval = scored.live!.tasks.find((t) => t.kind === 'approval')!
    const approved = await post(`/api/tasks/${approval.id}/complete`, 'superviseur.cercle.kati', {
      data: { decision: 'approve' },
    })
    expect(approved.status).toBe(200)
    const closed = await eventually(
      async () => {
        const d = (await (
          await get(`/api/reverifications/${id}`, 'superviseur.cercle.kati')
        ).json()) as Detail
        return d.stage === 'closed' ? d : undefined
      },
      { what: 'the case closed' },
    )
    expect(closed.registryWrites).toEqual([expect.objectContaining({ status: 'sent' })])
    // Without REGISTRY_URL the households table is the registry: it now holds the new score.
    const household = await tdb.db
      .selectFrom('households')
      .select(['pmtScore', 'eligible', 'pmtFormulaVersion'])
      .where('id', '=', 'RSU-0000003')
      .executeTakeFirstOrThrow()
    expect(household).toEqual({
      pmtScore: '36.5',
      eligible: false,
      pmtFormulaVersion: 'pmt-2026-v1',
    })
  })
})
