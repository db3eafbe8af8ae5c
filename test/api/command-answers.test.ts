import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../api/auth/types'
import { appealsRoutes } from '../../api/routes/appeals'
import { casesRoutes } from '../../api/routes/cases'
import { referralsRoutes } from '../../api/routes/referrals'
import { reverificationsRoutes } from '../../api/routes/reverifications'
import { tasksRoutes } from '../../api/routes/tasks'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { startRegistryWorker } from '../helpers/registry'
import { connectTestClient, type RunningWorker } from '../helpers/temporal'

/**
 * One durable transition per command (the kernel issue): for every case kind, a command answers
 * with the rows its projection wrote, the very next list shows where the case now stands, and the
 * API sends no Query to Temporal after a command (counted on the client's own connection).
 */
let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>
const calls = { query: 0, update: 0 }

beforeAll(async () => {
  tdb = await createTestDatabase()
  // The appeal window of the grievance an appeal contests stays open through the test.
  await seedForCases(tdb.db, [{ category: 'exclusion_error', targets: { appealWindow: 3600 } }])
  client = await connectTestClient()
  worker = await startRegistryWorker(tdb.db, { client })
  // Every call of the API's client to Temporal's frontend goes through this service object.
  const service = client.connection.workflowService
  const query = service.queryWorkflow.bind(service)
  const update = service.updateWorkflowExecution.bind(service)
  service.queryWorkflow = ((...args: Parameters<typeof query>) => {
    calls.query += 1
    return query(...args)
  }) as typeof service.queryWorkflow
  service.updateWorkflowExecution = ((...args: Parameters<typeof update>) => {
    calls.update += 1
    return update(...args)
  }) as typeof service.updateWorkflowExecution
  const deps = { db: tdb.db, temporal: client, taskQueue: worker.taskQueue }
  app = appSignedInByHeader(tdb.db, (api) => {
    api.route('/api/cases', casesRoutes(deps))
    api.route('/api/tasks', tasksRoutes(deps))
    api.route('/api/reverifications', reverificationsRoutes(deps))
    api.route('/api/referrals', referralsRoutes(deps))
    api.route('/api/appeals', appealsRoutes(deps))
  })
})
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
})

const AGENT = 'agent.kati.1'
const CERCLE = 'superviseur.cercle.kati'
const REGION = 'superviseur.region.koulikoro'

async function post(path: string, user: string, body: unknown) {
  const res = await app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
async function list<T>(path: string, user: string, filter: Record<string, unknown>): Promise<T[]> {
  const res = await app.request(`${path}?filter=${encodeURIComponent(JSON.stringify(filter))}`, {
    headers: { 'x-test-user': user },
  })
  expect(res.status).toBe(200)
  return (await res.json()) as T[]
}
type Task = { id: string; kind: string; status: string; assigneeId: string | null }
type CaseRow = { id: string; stage: string; status: string; slaState: string }

/** The open tasks of a case as the list shows them right now: no waiting. */
const openTasks = (caseId: string, user: string) =>
  list<Task>('/api/tasks', user, { caseId, status: ['open', 'claimed'] })
const usernameOf = async (id: string) =>
  (
    await tdb.db
      .selectFrom('users')
      .select('username')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
  ).username

/** Runs `command` and checks that the API sent Updates but not a single Query meanwhile. */
async function noQuery<T>(command: () => Promise<T>): Promise<T> {
  const before = { ...calls }
  const out = await command()
  expect(calls.query - before.query, 'queries sent by the API after a command').toBe(0)
  return out
}

describe('a command answers with its projected row, and the next list shows it', () => {
  it('grievance: intake, triage, investigation, approval, note, pause', async () => {
    const intake = await noQuery(() =>
      post('/api/cases', AGENT, {
        communeCode: 'ML-2-KATI-KATI',
        channel: 'hotline',
        narrative: 'Mon ménage a été retiré de la liste des bénéficiaires sans explication.',
        category: 'exclusion_error',
      }),
    )
    expect(intake.status).toBe(201)
    const caseId = intake.body.caseId as string
    // The case and its triage task exist as soon as the intake answers.
    const [triage] = await openTasks(caseId, AGENT)
    expect(triage).toMatchObject({ kind: 'triage' })

    const triager = await usernameOf(triage!.assigneeId!)
    const triaged = await noQuery(() =>
      post(`/api/tasks/${triage!.id}/complete`, triager, {
        data: { category: 'exclusion_error', sensitive: false, priority: 'high' },
      }),
    )
    expect(triaged.status).toBe(200)
    expect(triaged.body.task).toMatchObject({ id: triage!.id, status: 'completed' })
    // The answer already carries where the case went: investigation, and its task is listed.
    expect(triaged.body.task).toMatchObject({ caseStage: 'investigation', casePriority: 'high' })
    const [investigation] = await openTasks(caseId, AGENT)
    expect(investigation).toMatchObject({ kind: 'investigation' })

    const investigator = await usernameOf(investigation!.assigneeId!)
    const proposed = await noQuery(() =>
      post(`/api/tasks/${investigation!.id}/complete`, investigator, {
        data: {
          findings: 'Le ménage remplit les critères; exclu par erreur de saisie.',
          proposedResolution: 'upheld',
          changesEligibilityOrPayment: true,
        },
      }),
    )
    expect(proposed.body.task).toMatchObject({ status: 'completed', caseStage: 'approval' })
    const [approval] = await openTasks(caseId, CERCLE)
    expect(approval).toMatchObject({ kind: 'approval' })

    const noted = await noQuery(() =>
      post(`/api/cases/${caseId}/notes`, CERCLE, { text: 'Vérifier la liste de paiement.' }),
    )
    expect(noted.status).toBe(200)
    const paused = await noQuery(() =>
      post(`/api/cases/${caseId}/pause-sla`, CERCLE, { reason: 'waiting_complainant' }),
    )
    expect(paused.body.case).toMatchObject({ id: caseId, slaState: 'paused' })
    const [listed] = await list<CaseRow>('/api/cases', CERCLE, { id: caseId })
    expect(listed).toMatchObject({ stage: 'approval', slaState: 'paused' })

    const approved = await noQuery(() =>
      post(`/api/tasks/${approval!.id}/complete`, CERCLE, { data: { decision: 'approve' } }),
    )
    expect(approved.body.task).toMatchObject({ status: 'completed', caseStage: 'appeal_window' })
    const [resolved] = await list<CaseRow>('/api/cases', CERCLE, { id: caseId })
    expect(resolved).toMatchObject({ stage: 'appeal_window' })
    expect(calls.update).toBeGreaterThan(0)

    // The upheld exclusion spawned the household's re-verification; an appeal contests it too.
    const appeal = await noQuery(() =>
      post('/api/appeals', AGENT, {
        contestedCaseId: caseId,
        grounds: 'Le ménage conteste la date de sa réintégration.',
      }),
    )
    expect(appeal.status).toBe(201)
    const appealId = appeal.body.id as string
    expect(appeal.body).toMatchObject({ stage: 'review' })
    const [review] = await openTasks(appealId, REGION)
    expect(review).toMatchObject({ kind: 'appeal_review' })
    const decided = await noQuery(() =>
      post(`/api/tasks/${review!.id}/complete`, REGION, {
        data: { decision: 'partly', reasons: 'La date de réintégration doit être corrigée.' },
      }),
    )
    expect(decided.status).toBe(200)
    expect(decided.body.task).toMatchObject({ status: 'completed', caseStage: 'implementation' })
    const [implementation] = await openTasks(appealId, AGENT)
    expect(implementation).toMatchObject({ kind: 'implementation' })
    const linked = await noQuery(() =>
      post(`/api/cases/${appealId}/links`, CERCLE, { toCaseId: caseId, kind: 'related' }),
    )
    expect(linked.body.case).toMatchObject({ id: appealId, stage: 'implementation' })
  })

  it('re-verification: opening, visit, approval', async () => {
    const started = await noQuery(() =>
      post('/api/reverifications', CERCLE, { householdId: 'RSU-0000003' }),
    )
    expect(started.status).toBe(201)
    const caseId = started.body.id as string
    const [visit] = await openTasks(caseId, CERCLE)
    expect(visit).toMatchObject({ kind: 'visit' })
    const enumerator = visit!.assigneeId ? await usernameOf(visit!.assigneeId) : AGENT
    const visited = await noQuery(() =>
      post(`/api/tasks/${visit!.id}/complete`, enumerator, {
        data: {
          outcome: 'visited',
          members: 6,
          variables: { rooms: 3, improved_roof: 1 },
        },
      }),
    )
    expect(visited.status, JSON.stringify(visited.body)).toBe(200)
    expect(visited.body.task).toMatchObject({ status: 'completed', caseStage: 'approval' })
    const [approval] = await openTasks(caseId, CERCLE)
    expect(approval).toMatchObject({ kind: 'approval' })
    const extended = await noQuery(() =>
      post(`/api/cases/${caseId}/extend-sla`, CERCLE, { byMs: 3_600_000, reason: 'saison' }),
    )
    expect(extended.status).toBe(200)
    expect(extended.body.case).toMatchObject({ id: caseId, stage: 'approval' })
  })

  it('referral: opening, the partner accepts, pause and resume', async () => {
    const opened = await noQuery(() =>
      post('/api/referrals', AGENT, {
        areaCode: 'ML-2-KATI-KATI',
        serviceCode: 'cash_transfer',
        consent: { given: true, method: 'written' },
      }),
    )
    expect(opened.status).toBe(201)
    const caseId = opened.body.id as string
    expect(opened.body).toMatchObject({ stage: 'awaiting_partner' })
    const partner = `partenaire.${opened.body.partnerCode as string}`
    const accepted = await noQuery(() => post(`/api/referrals/${caseId}/accept`, partner, {}))
    expect(accepted.status).toBe(200)
    expect(accepted.body).toMatchObject({ stage: 'in_service' })
    const paused = await noQuery(() =>
      post(`/api/cases/${caseId}/pause-sla`, CERCLE, { reason: 'waiting_partner' }),
    )
    expect(paused.status).toBe(200)
    expect(paused.body.result).toMatchObject({ paused: true })
    const resumed = await noQuery(() => post(`/api/cases/${caseId}/resume-sla`, CERCLE, {}))
    expect(resumed.body.result).toMatchObject({ paused: false })
    const [listed] = await list<CaseRow>('/api/cases', CERCLE, { id: caseId })
    expect(listed).toMatchObject({ stage: 'in_service' })
  })
})
