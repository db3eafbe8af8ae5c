import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDciRegistry } from '../../activities/registry/dci'
import type { AppEnv } from '../../api/auth/types'
import { appealsRoutes } from '../../api/routes/appeals'
import { casesRoutes } from '../../api/routes/cases'
import { tasksRoutes } from '../../api/routes/tasks'
import { caseWorkflowId } from '../../workflows/messages'
import { spawnedReverificationId } from '../../workflows/kinds/reverification/messages'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedForCases, userId } from '../helpers/fixtures'
import { dciRegistry, REGISTRY_URL, startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, mailbox, type RunningWorker } from '../helpers/temporal'

// The registry at the network edge (msw, real DCI shapes): the household was found not eligible.
const registry = dciRegistry([
  {
    id: 'RSU-0000003',
    areaCode: 'ML-2-KATI-KATI',
    members: 7,
    povertyScore: 31,
    eligible: false,
    programmes: [],
  },
])
const server = setupServer(...registry.handlers)

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

const CERCLE = 'superviseur.cercle.kati'
const REGION = 'superviseur.region.koulikoro'
const AGENT = 'agent.kati.1'
const HOUSEHOLD_EMAIL = 'menage.pipeline@exemple.ml'

const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const post = (path: string, user: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const complete = async (user: string, taskId: string, data: unknown) => {
  const res = await post(`/api/tasks/${taskId}/complete`, user, { data })
  expect(res.status, `${user} completes ${taskId}: ${await res.clone().text()}`).toBe(200)
}
const usernameOf = async (id: string | null) =>
  (
    await tdb.db
      .selectFrom('users')
      .select('username')
      .where('id', '=', id!)
      .executeTakeFirstOrThrow()
  ).username
const openTask = (caseId: string, kind: string) =>
  eventually(
    () =>
      tdb.db
        .selectFrom('tasks')
        .select(['id', 'assigneeId'])
        .where('caseId', '=', caseId)
        .where('kind', '=', kind)
        .where('status', 'in', ['open', 'claimed'])
        .executeTakeFirst(),
    { what: `an open ${kind} task on ${caseId}`, timeoutMs: 30_000 },
  )
const caseRow = (caseId: string) =>
  tdb.db.selectFrom('cases').selectAll().where('id', '=', caseId).executeTakeFirst()
const closedCase = (caseId: string) =>
  eventually(async () => ((await caseRow(caseId))?.status === 'closed' ? true : undefined), {
    what: `${caseId} closed`,
    timeoutMs: 30_000,
  })

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' })
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  // Decisions may be appealed for an hour (the test default is 2 seconds).
  await sql`update sla_policies set targets = jsonb_set(targets, '{appealWindow}', '3600')`.execute(
    tdb.db,
  )
  client = await connectTestClient()
  worker = await startRegistryWorker(tdb.db, {
    client,
    registry: createDciRegistry({ baseUrl: REGISTRY_URL, token: 'test-token' }),
  })
  const deps = { db: tdb.db, temporal: client, taskQueue: worker.taskQueue }
  app = appSignedInByHeader(tdb.db, (api) => {
    api.route('/api/cases', casesRoutes(deps))
    api.route('/api/tasks', tasksRoutes(deps))
    api.route('/api/appeals', appealsRoutes(deps))
  })
})
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
  server.close()
})

describe('from an exclusion grievance to a decided appeal', () => {
  it('grievance → re-verification → visit and score → approval → one registry write → household notified → appeal decided by someone else → the chain', async () => {
    // 1. An exclusion grievance, upheld and approved, names the household.
    const grievance = grievanceInput({
      category: 'exclusion_error',
      contact: { email: HOUSEHOLD_EMAIL, locale: 'fr' },
    })
    await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(grievance.caseId),
      taskQueue: worker.taskQueue,
      args: [grievance],
    })
    const triage = await openTask(grievance.caseId, 'triage')
    await complete(await usernameOf(triage.assigneeId), triage.id, {
      category: 'exclusion_error',
      sensitive: false,
      priority: 'normal',
    })
    const investigation = await openTask(grievance.caseId, 'investigation')
    await complete(await usernameOf(investigation.assigneeId), investigation.id, {
      findings: 'Le ménage remplit les critères mais a été omis lors du recensement.',
      proposedResolution: 'upheld',
      changesEligibilityOrPayment: true,
      householdId: 'RSU-0000003',
    })
    const approval = await openTask(grievance.caseId, 'approval')
    await complete(CERCLE, approval.id, { decision: 'approve' })

    // 2. The re-verification it spawned: the enumerator's visit gives a new score.
    const rvId = spawnedReverificationId(grievance.caseId)
    const visit = await openTask(rvId, 'visit')
    const enumerator = await usernameOf(visit.assigneeId)
    await complete(enumerator, visit.id, {
      outcome: 'visited',
      members: 9,
      variables: { children_under_5: 3, rooms: 2, improved_roof: 0, livestock_units: 1 },
    })
    // 3. A supervisor approves the eligibility change (not the enumerator).
    const proposal = await openTask(rvId, 'approval')
    expect(registry.updates()).toHaveLength(0)
    expect(
      (
        await post(`/api/tasks/${proposal.id}/complete`, enumerator, {
          data: { decision: 'approve' },
        })
      ).status,
    ).toBe(403)
    await complete(CERCLE, proposal.id, { decision: 'approve' })
    await closedCase(rvId)
    // 4. Exactly one registry write.
    expect(registry.updates()).toHaveLength(1)
    // 5. The household is notified (reference only).
    await eventually(
      async () => (await mailbox(HOUSEHOLD_EMAIL)).find((m) => m.subject.includes(rvId)),
      { what: 'the household notified of the re-verification' },
    )

    // 6. The household appeals the eligibility decision; its deciders may not review it.
    const filed = await post('/api/appeals', AGENT, {
      contestedCaseId: rvId,
      grounds: 'Le ménage estime que la visite a sous-estimé ses besoins.',
    })
    expect(filed.status).toBe(201)
    const appeal = (await filed.json()) as { id: string }
    const review = await openTask(appeal.id, 'appeal_review')
    const reasons = 'Le nombre d’enfants relevé à la visite était incomplet.'
    for (const decider of [CERCLE, enumerator]) {
      const res = await post(`/api/tasks/${review.id}/complete`, decider, {
        data: { decision: 'overturned', reasons },
      })
      expect(res.status).toBe(403)
    }
    const refused = await post(`/api/tasks/${review.id}/complete`, CERCLE, {
      data: { decision: 'overturned', reasons },
    })
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'REVIEWER_NOT_INDEPENDENT',
    )
    await complete(REGION, review.id, { decision: 'overturned', reasons })
    await closedCase(appeal.id)
    const decided = (await (await get(`/api/appeals/${appeal.id}`, AGENT)).json()) as {
      decision: { outcome: string; decidedBy: string }
      implementationCaseId: string
    }
    expect(decided.decision).toMatchObject({
      outcome: 'overturned',
      decidedBy: await userId(tdb.db, REGION),
    })
    // Overturned eligibility: a new re-verification of the household, linked to the appeal.
    const again = decided.implementationCaseId
    expect(again).toBe(`RV-${appeal.id}`)
    await openTask(again, 'visit')
    // The household hears of the appeal's decision.
    await eventually(
      async () => (await mailbox(HOUSEHOLD_EMAIL)).find((m) => m.subject.includes(appeal.id)),
      { what: 'the household notified of the appeal decision' },
    )
    // Still exactly one registry write: the new re-verification waits for its visit.
    expect(registry.updates()).toHaveLength(1)

    // 7. GET /api/cases/{id} shows the chain of linked cases, from any of them.
    const detail = (await (await get(`/api/cases/${grievance.caseId}`, AGENT)).json()) as {
      chain: {
        cases: { id: string; kind: string }[]
        links: { fromCaseId: string; toCaseId: string; kind: string }[]
      }
    }
    expect(detail.chain.cases.map((c) => [c.id, c.kind])).toEqual([
      [grievance.caseId, 'grievance'],
      [rvId, 'reverification'],
      [appeal.id, 'appeal'],
      [again, 'reverification'],
    ])
    expect(detail.chain.links).toEqual(
      expect.arrayContaining([
        { fromCaseId: grievance.caseId, toCaseId: rvId, kind: 'spawned' },
        { fromCaseId: appeal.id, toCaseId: rvId, kind: 'appeal_of' },
        { fromCaseId: appeal.id, toCaseId: again, kind: 'spawned' },
      ]),
    )
    const fromAppeal = (await (await get(`/api/cases/${appeal.id}`, AGENT)).json()) as {
      chain: { cases: unknown[] }
    }
    expect(fromAppeal.chain.cases).toHaveLength(4)
  })
})
