import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import type { AppEnv } from '../../api/auth/types'
import { casesRoutes } from '../../api/routes/cases'
import { tasksRoutes } from '../../api/routes/tasks'
import { caseWorkflowId } from '../../workflows/messages'
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
const tasks = async (user: string, filter: Record<string, unknown> = {}) => {
  const res = await get(`/api/tasks?filter=${encodeURIComponent(JSON.stringify(filter))}`, user)
  expect(res.status).toBe(200)
  return (await res.json()) as { id: string; kind: string; status: string; assigneeId: string }[]
}

const input = grievanceInput({ caseId: 'G-task' })
let triageId: string
let assignee: string
let other: string

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  app = buildApp(tdb.db, worker.taskQueue)
  await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  const triage = await eventually(
    () =>
      tdb.db
        .selectFrom('tasks')
        .select(['id', 'assigneeId'])
        .where('caseId', '=', input.caseId)
        .where('kind', '=', 'triage')
        .executeTakeFirst(),
    { what: 'the triage task' },
  )
  triageId = triage.id
  const agents = {
    [await userId(tdb.db, 'agent.kati.1')]: 'agent.kati.1',
    [await userId(tdb.db, 'agent.kati.2')]: 'agent.kati.2',
  }
  assignee = agents[triage.assigneeId!]!
  other = assignee === 'agent.kati.1' ? 'agent.kati.2' : 'agent.kati.1'
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

describe('task inboxes', () => {
  it('mine, my team’s, and nothing of another commune', async () => {
    expect((await tasks(assignee, { mine: true })).map((t) => t.id)).toEqual([triageId])
    expect(await tasks(other, { mine: true })).toEqual([])
    expect(
      (await tasks(other, { team: true, status: ['open', 'claimed'] })).map((t) => t.id),
    ).toEqual([triageId])
    expect(
      (await tasks('superviseur.cercle.kati', { caseId: input.caseId })).map((t) => t.kind),
    ).toEqual(['triage'])
    expect(await tasks('agent.kayes.1')).toEqual([])
    const hidden = await get(`/api/tasks/${triageId}`, 'agent.kayes.1')
    expect(hidden.status).toBe(404)
    expect(await hidden.text()).toBe(
      await (await get('/api/tasks/G-nope-T1', 'agent.kayes.1')).text(),
    )
    const shown = await get(`/api/tasks/${triageId}`, other)
    expect(shown.status).toBe(200)
    expect(await shown.json()).toMatchObject({ id: triageId, kind: 'triage', caseStage: 'triage' })

    const sorted = await get('/api/tasks?sort=["dueAt","ASC"]&range=[0,9]', assignee)
    expect(sorted.headers.get('content-range')).toBe('tasks 0-0/1')
    const bad = await get('/api/tasks?filter={"mine":"yes"}', assignee)
    expect(bad.status).toBe(400)
    expect(await bad.json()).toMatchObject({
      error: { code: 'INVALID_QUERY', details: [{ path: 'filter.mine' }] },
    })
  })
})

describe('task commands', () => {
  it('completing a task through the API moves the case, visible in the next list', async () => {
    const done = await post(`/api/tasks/${triageId}/complete`, assignee, {
      data: { category: 'payment_not_received', sensitive: false, priority: 'high' },
    })
    expect(done.status).toBe(200)
    expect(await done.json()).toMatchObject({ task: { id: triageId, status: 'completed' } })
    // Right after the answer, no waiting: the case has moved on to investigation.
    const res = await get(`/api/cases?filter=${JSON.stringify({ id: input.caseId })}`, assignee)
    expect(await res.json()).toMatchObject([
      { id: input.caseId, stage: 'investigation', priority: 'high' },
    ])
    expect((await tasks(assignee, { caseId: input.caseId, kind: 'triage' }))[0]).toMatchObject({
      status: 'completed',
    })
  })

  it('maps refusals to HTTP: 409, 422 with fields, 403, and 404 out of scope', async () => {
    const again = await post(`/api/tasks/${triageId}/complete`, assignee, {
      data: { category: 'payment_not_received', sensitive: false, priority: 'high' },
    })
    expect(again.status).toBe(409)
    expect(await again.json()).toMatchObject({ error: { code: 'TASK_ALREADY_COMPLETED' } })

    // The next task is opened once the case has picked its investigator: maybe a moment later.
    const investigation = await eventually(
      async () => (await tasks(assignee, { caseId: input.caseId, kind: 'investigation' }))[0],
      { what: 'the investigation task' },
    )
    const invalid = await post(
      `/api/tasks/${investigation.id}/complete`,
      investigation.assigneeId === (await userId(tdb.db, assignee)) ? assignee : other,
      {
        data: { findings: 'court', proposedResolution: 'upheld' },
      },
    )
    expect(invalid.status).toBe(422)
    const invalidBody = (await invalid.json()) as {
      error: { code: string; details: { path: string }[] }
    }
    expect(invalidBody.error.code).toBe('INVALID_FORM')
    expect(invalidBody.error.details.map((d) => d.path)).toEqual(
      expect.arrayContaining(['findings', 'changesEligibilityOrPayment']),
    )

    const holder = investigation.assigneeId === (await userId(tdb.db, assignee)) ? assignee : other
    const notHolder = holder === assignee ? other : assignee
    const claim = await post(`/api/tasks/${investigation.id}/claim`, notHolder, {})
    expect(claim.status).toBe(409)
    expect(await claim.json()).toMatchObject({ error: { code: 'TASK_ALREADY_CLAIMED' } })

    const reassignByWorker = await post(`/api/tasks/${investigation.id}/reassign`, holder, {
      assigneeId: await userId(tdb.db, notHolder),
    })
    expect(reassignByWorker.status).toBe(403)
    expect(await reassignByWorker.json()).toMatchObject({ error: { code: 'NOT_ALLOWED' } })

    const outsider = await post(
      `/api/tasks/${investigation.id}/reassign`,
      'superviseur.cercle.kati',
      {
        assigneeId: await userId(tdb.db, 'agent.kayes.1'),
      },
    )
    expect(outsider.status).toBe(422)
    expect(await outsider.json()).toMatchObject({
      error: { code: 'INVALID_COMMAND', details: [{ path: 'assigneeId' }] },
    })

    const reassigned = await post(
      `/api/tasks/${investigation.id}/reassign`,
      'superviseur.cercle.kati',
      { assigneeId: await userId(tdb.db, notHolder) },
      'reassign-1',
    )
    expect(reassigned.status).toBe(200)
    expect(await reassigned.json()).toMatchObject({
      task: { assigneeId: await userId(tdb.db, notHolder), status: 'claimed' },
    })
    expect((await tasks(notHolder, { mine: true })).map((t) => t.id)).toEqual([investigation.id])

    const foreign = await post(`/api/tasks/${investigation.id}/complete`, 'agent.kayes.1', {
      data: {},
    })
    expect(foreign.status).toBe(404)
    expect(await foreign.json()).toMatchObject({ error: { code: 'NOT_FOUND' } })
  })

  it('a task of a closed case answers 409 CASE_CLOSED', async () => {
    const [investigation] = await tasks('superviseur.cercle.kati', {
      caseId: input.caseId,
      kind: 'investigation',
    })
    expect(
      (
        await post(`/api/cases/${input.caseId}/withdraw`, 'superviseur.cercle.kati', {
          reason: 'retrait',
        })
      ).status,
    ).toBe(200)
    const late = await post(
      `/api/tasks/${investigation!.id}/unclaim`,
      'superviseur.cercle.kati',
      {},
    )
    expect(late.status).toBe(409)
    expect(await late.json()).toMatchObject({ error: { code: 'CASE_CLOSED' } })
  })
})
