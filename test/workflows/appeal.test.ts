import { randomUUID } from 'node:crypto'
import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { sql, type Expression } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../api/auth/types'
import { appealsRoutes } from '../../api/routes/appeals'
import { casesRoutes } from '../../api/routes/cases'
import { tasksRoutes } from '../../api/routes/tasks'
import { caseWorkflowId, type OpenCaseInput } from '../../workflows/messages'
import { appSignedInByHeader } from '../helpers/api'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { grievanceInput, userId } from '../helpers/fixtures'
import { eventually, mailbox, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

const AGENT = 'agent.kati.1'
const CERCLE = 'superviseur.cercle.kati'
const REGION = 'superviseur.region.koulikoro'

const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const post = (path: string, user: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const errorCode = async (res: Response) =>
  ((await res.json()) as { error: { code: string } }).error.code

const usernames = new Map<string, string>()
async function username(id: string) {
  if (!usernames.has(id)) {
    const row = await tdb.db
      .selectFrom('users')
      .select('username')
      .where('id', '=', id)
      .executeTakeFirstOrThrow()
    usernames.set(id, row.username)
  }
  return usernames.get(id)!
}

/** The open task of `kind` on a case, from the read model. */
const openTask = (caseId: string, kind: string) =>
  eventually(
    () =>
      tdb.db
        .selectFrom('tasks')
        .select(['id', 'assigneeId', 'candidateRole'])
        .where('caseId', '=', caseId)
        .where('kind', '=', kind)
        .where('status', 'in', ['open', 'claimed'])
        .executeTakeFirst(),
    { what: `an open ${kind} task on ${caseId}` },
  )

async function completeAs(user: string, taskId: string, data: unknown) {
  return post(`/api/tasks/${taskId}/complete`, user, { data })
}

/** A grievance taken to its outcome through the API: triage, investigation, approval. */
async function decidedGrievance(appealWindowSeconds: number, email: string) {
  await tdb.db
    .updateTable('slaPolicies')
    .set((eb) => ({
      targets: sqlJsonSet(eb.ref('targets'), appealWindowSeconds),
    }))
    .where('caseKind', '=', 'grievance')
    .execute()
  const input: OpenCaseInput = grievanceInput({
    caseId: `G-${randomUUID().slice(0, 8)}`,
    category: 'exclusion_error',
    contact: { email, locale: 'fr' },
  })
  await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  const triage = await openTask(input.caseId, 'triage')
  const triager = await username(triage.assigneeId!)
  expect(
    (
      await completeAs(triager, triage.id, {
        category: 'exclusion_error',
        sensitive: false,
        priority: 'normal',
      })
    ).status,
  ).toBe(200)
  const investigation = await openTask(input.caseId, 'investigation')
  const investigator = await username(investigation.assigneeId!)
  expect(
    (
      await completeAs(investigator, investigation.id, {
        findings: 'Ménage exclu à tort lors du dernier ciblage.',
        proposedResolution: 'rejected',
        changesEligibilityOrPayment: true,
      })
    ).status,
  ).toBe(200)
  const approval = await openTask(input.caseId, 'approval')
  expect((await completeAs(CERCLE, approval.id, { decision: 'approve' })).status).toBe(200)
  await eventually(
    () =>
      tdb.db
        .selectFrom('caseEvents')
        .select('id')
        .where('caseId', '=', input.caseId)
        .where('type', '=', 'case.resolved')
        .executeTakeFirst(),
    { what: 'the outcome' },
  )
  return { caseId: input.caseId, deciders: [triager, investigator, CERCLE] }
}

// The grievance policy's appeal window, in seconds, for the next grievance opened.
const sqlJsonSet = (targets: Expression<unknown>, seconds: number) =>
  sql<Record<string, number>>`jsonb_set(${targets}, '{appealWindow}', to_jsonb(${seconds}::int))`

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  const deps = { db: tdb.db, temporal: client, taskQueue: worker.taskQueue }
  app = appSignedInByHeader(tdb.db, (api) => {
    api.route('/api/cases', casesRoutes(deps))
    api.route('/api/tasks', tasksRoutes(deps))
    api.route('/api/appeals', appealsRoutes(deps))
  })
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

describe('appeal', () => {
  it('is refused with APPEAL_WINDOW_CLOSED once the window has closed, and nothing starts', async () => {
    const { caseId } = await decidedGrievance(1, 'hors.delai@exemple.ml')
    await eventually(
      async () =>
        (
          await tdb.db
            .selectFrom('cases')
            .select('status')
            .where('id', '=', caseId)
            .executeTakeFirstOrThrow()
        ).status === 'closed' || undefined,
      { what: 'the window to close' },
    )
    const res = await post('/api/appeals', AGENT, {
      contestedCaseId: caseId,
      grounds: 'Le ménage conteste la décision de rejet.',
    })
    expect(res.status).toBe(422)
    expect(await errorCode(res)).toBe('APPEAL_WINDOW_CLOSED')
    const appeals = await tdb.db
      .selectFrom('cases')
      .select('id')
      .where('kind', '=', 'appeal')
      .execute()
    expect(appeals).toEqual([])
  })

  it('is reviewed by someone independent of the decision, decided with reasons, implemented, the household notified, and the chain shown', async () => {
    const email = 'recours.menage@exemple.ml'
    const { caseId, deciders } = await decidedGrievance(3600, email)

    const filed = await post('/api/appeals', AGENT, {
      contestedCaseId: caseId,
      grounds: 'Le ménage vit toujours dans la pauvreté extrême.',
    })
    expect(filed.status).toBe(201)
    const appeal = (await filed.json()) as { id: string; stage: string; windowEndsAt: string }
    expect(appeal.stage).toBe('review')
    // A second appeal of the same decision while this one runs is refused.
    const twice = await post('/api/appeals', AGENT, {
      contestedCaseId: caseId,
      grounds: 'Le ménage vit toujours dans la pauvreté extrême.',
    })
    expect(twice.status).toBe(409)

    const review = await openTask(appeal.id, 'appeal_review')
    // The only supervisor of the cercle approved the grievance: the review is not given to them.
    expect(review.assigneeId).toBeNull()
    const reasons = 'Les données du ciblage étaient erronées pour ce ménage.'
    for (const decider of [CERCLE]) {
      const refused = await completeAs(decider, review.id, { decision: 'overturned', reasons })
      expect(refused.status).toBe(403)
      expect(await errorCode(refused)).toBe('REVIEWER_NOT_INDEPENDENT')
    }
    expect(deciders).toContain(CERCLE)
    // Reasons are mandatory.
    const noReasons = await completeAs(REGION, review.id, { decision: 'partly' })
    expect(noReasons.status).toBe(422)

    const decided = await completeAs(REGION, review.id, { decision: 'partly', reasons })
    expect(decided.status).toBe(200)

    // A grievance outcome changed in part: a case worker implements it.
    const implementation = await openTask(appeal.id, 'implementation')
    expect(
      (await completeAs(AGENT, implementation.id, { action: 'payment_corrected' })).status,
    ).toBe(200)
    await eventually(
      async () =>
        (
          await tdb.db
            .selectFrom('cases')
            .select('status')
            .where('id', '=', appeal.id)
            .executeTakeFirstOrThrow()
        ).status === 'closed' || undefined,
      { what: 'the appeal closed' },
    )

    const shown = await get(`/api/appeals/${appeal.id}`, AGENT)
    expect(shown.status).toBe(200)
    const body = (await shown.json()) as {
      status: string
      decision: { outcome: string; reasons: string; decidedBy: string }
    }
    expect(body.status).toBe('closed')
    expect(body.decision).toMatchObject({
      outcome: 'partly',
      reasons,
      decidedBy: await userId(tdb.db, REGION),
    })
    // The reasons are free text: in the encrypted history, never in PostgreSQL.
    const rows = await tdb.db
      .selectFrom('caseEvents')
      .selectAll()
      .where('caseId', '=', appeal.id)
      .execute()
    expect(JSON.stringify(rows)).not.toContain('ciblage étaient erronées')
    expect(rows.find((r) => r.type === 'appeal.decided')?.after).toMatchObject({
      outcome: 'partly',
    })

    // The household hears of the decision by email: its reference, no reasons.
    const [mail] = await eventually(
      async () => {
        const all = (await mailbox(email)).filter((m) => m.subject.includes(appeal.id))
        return all.length ? all : undefined
      },
      { what: 'the decision email' },
    )
    expect(mail!.subject).toBe(`Décision sur votre recours ${appeal.id}`)
    expect(mail!.text).not.toContain('ciblage')

    // The case page shows the chain: the grievance and its appeal, linked.
    for (const id of [caseId, appeal.id]) {
      const detail = (await (await get(`/api/cases/${id}`, AGENT)).json()) as {
        chain: { cases: { id: string; kind: string }[]; links: unknown[] }
      }
      expect(detail.chain.cases.map((c) => [c.id, c.kind])).toEqual([
        [caseId, 'grievance'],
        [appeal.id, 'appeal'],
      ])
      expect(detail.chain.links).toEqual([
        { fromCaseId: appeal.id, toCaseId: caseId, kind: 'appeal_of' },
      ])
    }
    // Someone who may not see the cases sees no chain at all.
    expect((await get(`/api/cases/${caseId}`, 'agent.sikasso.1')).status).toBe(404)
  })

  it('a committee decides N of M on the review: never the reviewer, never a decider of the case', async () => {
    const { caseId } = await decidedGrievance(3600, 'comite@exemple.ml')
    // Two more independent supervisors in the region, so that a committee of two can sit.
    for (const n of [2, 3]) {
      const [extra] = await tdb.db
        .insertInto('users')
        .values({
          username: `superviseur.region.koulikoro.${n}`,
          displayName: `Superviseur ${n} — région Koulikoro`,
          email: `superviseur.region.koulikoro.${n}@rsu.localhost`,
          passwordHash: null,
          totpSecret: null,
        })
        .returning('id')
        .execute()
      await tdb.db
        .insertInto('userRoles')
        .values({ userId: extra!.id, roleCode: 'supervisor', areaCode: 'ML-2' })
        .execute()
    }
    const filed = await post('/api/appeals', AGENT, {
      contestedCaseId: caseId,
      grounds: 'Le ménage demande un nouvel examen en comité.',
      mode: 'committee',
      committeeRequired: 2,
    })
    expect(filed.status).toBe(201)
    const appeal = (await filed.json()) as { id: string }
    const review = await openTask(appeal.id, 'appeal_review')
    expect(
      (
        await completeAs(REGION, review.id, {
          decision: 'upheld',
          reasons: 'La décision initiale était fondée sur des données exactes.',
        })
      ).status,
    ).toBe(200)
    const approval = await openTask(appeal.id, 'approval')
    const fourEyes = await completeAs(REGION, approval.id, { decision: 'approve' })
    expect(fourEyes.status).toBe(403)
    expect(await errorCode(fourEyes)).toBe('FOUR_EYES')
    const decider = await completeAs(CERCLE, approval.id, { decision: 'approve' })
    expect(decider.status).toBe(403)
    expect(await errorCode(decider)).toBe('REVIEWER_NOT_INDEPENDENT')
    // One approval of two: not decided yet.
    expect(
      (await completeAs('superviseur.region.koulikoro.2', approval.id, { decision: 'approve' }))
        .status,
    ).toBe(200)
    expect(
      (
        await tdb.db
          .selectFrom('cases')
          .select('status')
          .where('id', '=', appeal.id)
          .executeTakeFirstOrThrow()
      ).status,
    ).toBe('open')
    // The programme manager is not a supervisor: a committee of supervisors only.
    expect((await completeAs('gestionnaire', approval.id, { decision: 'approve' })).status).toBe(
      403,
    )
    // The second approval makes the review the decision of record: upheld, the appeal closes.
    expect(
      (await completeAs('superviseur.region.koulikoro.3', approval.id, { decision: 'approve' }))
        .status,
    ).toBe(200)
    await eventually(
      async () =>
        (
          await tdb.db
            .selectFrom('cases')
            .select(['status', 'stage'])
            .where('id', '=', appeal.id)
            .executeTakeFirstOrThrow()
        ).status === 'closed' || undefined,
      { what: 'the appeal closed' },
    )
    const decided = (await (await get(`/api/appeals/${appeal.id}`, AGENT)).json()) as {
      decision: { outcome: string; approvedBy: string[] }
    }
    expect(decided.decision.outcome).toBe('upheld')
    expect(decided.decision.approvedBy.sort()).toEqual(
      [
        await userId(tdb.db, 'superviseur.region.koulikoro.2'),
        await userId(tdb.db, 'superviseur.region.koulikoro.3'),
      ].sort(),
    )
  })
})
