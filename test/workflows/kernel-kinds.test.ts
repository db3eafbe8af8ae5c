import type { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { AppEnv } from '../../api/auth/types'
import { appealsRoutes } from '../../api/routes/appeals'
import { casesRoutes } from '../../api/routes/cases'
import { referralsRoutes } from '../../api/routes/referrals'
import { reverificationsRoutes } from '../../api/routes/reverifications'
import { tasksRoutes } from '../../api/routes/tasks'
import { caseWorkflowId } from '../../workflows/messages'
import { appSignedInByHeader } from '../helpers/api'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, type RunningWorker } from '../helpers/temporal'

/**
 * The one kernel serves every kind (the kernel issue): re-verifications, referrals and appeals
 * remind and escalate on their whole-case target and on each stage's target, pause / resume /
 * extend their clock, take notes and links, show their live state, and continue as new — with
 * policies in seconds on an always-open calendar.
 */
let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>

const AGENT = 'agent.kati.1'
const CERCLE = 'superviseur.cercle.kati'
const REGION = 'superviseur.region.koulikoro'

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db, [
    // The grievance an appeal contests keeps its appeal window open.
    { category: 'exclusion_error', targets: { appealWindow: 3600 } },
    // Whole referral: at risk after 2 s, breached after 4 s, the region 3 s later.
    {
      caseKind: 'referral',
      targets: {
        partnerResponse: 3600,
        delivery: 3600,
        followUp: 3600,
        resolve: 4,
        escalationRepeat: 3,
      },
      atRiskRatio: 0.5,
    },
    // The review stage of an appeal is due after 2 s (reminder at 1 s).
    {
      caseKind: 'appeal',
      targets: { review: 2, implementation: 3600, resolve: 3600 },
      atRiskRatio: 0.5,
    },
  ])
  // The re-verification's visit (its `investigation` target) is due after 2 s; the whole case
  // after 4 s, and the next level 3 s later.
  await tdb.db
    .updateTable('slaPolicies')
    .set({
      targets: {
        acknowledge: 3600,
        triage: 3600,
        investigation: 2,
        approval: 3600,
        resolve: 4,
        escalationRepeat: 3,
        appealWindow: 3600,
      },
      atRiskRatio: '0.5',
    })
    .where('caseKind', '=', 'reverification')
    .where('category', 'is', null)
    .execute()
  client = await connectTestClient()
  worker = await startRegistryWorker(tdb.db, { client })
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

async function post(path: string, user: string, body: unknown) {
  const res = await app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
  return { status: res.status, body: (await res.json()) as Record<string, unknown> }
}
async function detail(caseId: string) {
  const res = await app.request(`/api/cases/${caseId}`, { headers: { 'x-test-user': CERCLE } })
  expect(res.status).toBe(200)
  return (await res.json()) as {
    stage: string
    live: {
      stage: string
      sla: { state: string; paused: boolean; targetMs: number } | null
      tasks: { id: string; kind: string; status: string; escalationLevel?: number }[]
      notes?: { text: string }[]
      links?: { toCaseId: string; kind: string }[]
    } | null
  }
}
const events = (caseId: string) =>
  tdb.db
    .selectFrom('caseEvents')
    .select(['seq', 'type', 'after'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()
const eventsOf = async (caseId: string, type: string, n = 1) =>
  eventually(
    async () => {
      const rows = (await events(caseId)).filter((e) => e.type === type)
      return rows.length >= n ? rows : undefined
    },
    { what: `${n} × ${type} on ${caseId}`, timeoutMs: 30_000 },
  )
const escalationTasks = (caseId: string) =>
  tdb.db
    .selectFrom('tasks')
    .select(['areaCode', 'candidateRole', 'escalationLevel'])
    .where('caseId', '=', caseId)
    .where('kind', '=', 'escalation')
    .orderBy('createdAt')
    .execute()
const reminders = (caseId: string) =>
  tdb.db
    .selectFrom('notificationOutbox')
    .select('template')
    .where('caseId', '=', caseId)
    .where('template', '=', 'task_reminder')
    .execute()

/** Pause, resume and extend the clock, add a note and a link: each answered by the kernel. */
async function clockNotesLinks(caseId: string, otherCaseId: string) {
  const paused = await post(`/api/cases/${caseId}/pause-sla`, CERCLE, { reason: 'other' })
  expect(paused.status, JSON.stringify(paused.body)).toBe(200)
  expect((await detail(caseId)).live?.sla).toMatchObject({ paused: true })
  const twice = await post(`/api/cases/${caseId}/pause-sla`, CERCLE, { reason: 'other' })
  expect(twice.status).toBe(409)
  expect((await post(`/api/cases/${caseId}/resume-sla`, CERCLE, {})).status).toBe(200)
  const before = (await detail(caseId)).live!.sla!.targetMs
  const extended = await post(`/api/cases/${caseId}/extend-sla`, CERCLE, {
    byMs: 60_000,
    reason: 'hivernage',
  })
  expect(extended.status).toBe(200)
  expect((await detail(caseId)).live!.sla!.targetMs).toBe(before + 60_000)
  expect(
    (await post(`/api/cases/${caseId}/notes`, CERCLE, { text: 'Le chef de village est absent.' }))
      .status,
  ).toBe(200)
  expect(
    (await post(`/api/cases/${caseId}/links`, CERCLE, { toCaseId: otherCaseId, kind: 'related' }))
      .status,
  ).toBe(200)
  const live = (await detail(caseId)).live!
  expect(live.notes?.map((n) => n.text)).toEqual(['Le chef de village est absent.'])
  expect(live.links).toEqual([{ toCaseId: otherCaseId, kind: 'related' }])
}

describe('the kernel on every kind', () => {
  it('a re-verification reminds and escalates on its visit (stage) target and on its own, up the ladder', async () => {
    const started = await post('/api/reverifications', CERCLE, { householdId: 'RSU-0000003' })
    expect(started.status).toBe(201)
    const caseId = started.body.id as string
    const live = (await detail(caseId)).live!
    expect(live.stage).toBe('visit')
    expect(live.tasks.map((t) => t.kind)).toEqual(['visit'])
    // The visit overdue after 2 s: reminded first, then escalated to the cercle's supervisors.
    await eventsOf(caseId, 'task.at_risk')
    const [overdue] = await eventsOf(caseId, 'task.overdue')
    expect(overdue!.after).toMatchObject({ kind: 'visit', areaCode: 'ML-2-KATI' })
    // The whole case breached at 4 s (cercle) and again 3 s later (region).
    const escalated = await eventsOf(caseId, 'case.escalated', 2)
    expect(escalated.map((e) => (e.after as { areaCode: string }).areaCode)).toEqual([
      'ML-2-KATI',
      'ML-2',
    ])
    expect(await escalationTasks(caseId)).toEqual([
      { areaCode: 'ML-2-KATI', candidateRole: 'supervisor', escalationLevel: 1 },
      { areaCode: 'ML-2-KATI', candidateRole: 'supervisor', escalationLevel: 1 },
      { areaCode: 'ML-2', candidateRole: 'supervisor', escalationLevel: 2 },
    ])
    expect((await reminders(caseId)).length).toBeGreaterThanOrEqual(1)
    expect(await detail(caseId)).toMatchObject({ live: { sla: { state: 'breached' } } })
  })

  it('a referral reminds and escalates on its whole-case target, pauses, resumes, extends, takes notes and links', async () => {
    const opened = await post('/api/referrals', AGENT, {
      areaCode: 'ML-2-KATI-KATI',
      serviceCode: 'cash_transfer',
      consent: { given: true, method: 'written' },
    })
    expect(opened.status).toBe(201)
    const caseId = opened.body.id as string
    await eventsOf(caseId, 'sla.at_risk')
    const [escalated] = await eventsOf(caseId, 'case.escalated')
    expect(escalated!.after).toMatchObject({ escalationLevel: 1, areaCode: 'ML-2-KATI' })
    expect((await escalationTasks(caseId))[0]).toMatchObject({ candidateRole: 'supervisor' })
    const another = await post('/api/referrals', AGENT, {
      areaCode: 'ML-2-KATI-KATI',
      serviceCode: 'cash_transfer',
      consent: { given: true, method: 'verbal' },
    })
    await clockNotesLinks(caseId, another.body.id as string)
  })

  it('an appeal reminds and escalates when its review stage is overdue; it takes the clock commands too', async () => {
    const intake = await post('/api/cases', AGENT, {
      communeCode: 'ML-2-KATI-KATI',
      channel: 'in_person',
      category: 'exclusion_error',
      narrative: 'Notre ménage a été exclu après le dernier recensement.',
    })
    const grievanceId = intake.body.caseId as string
    const task = async (caseId: string, kind: string) =>
      (await detail(caseId)).live!.tasks.find((t) => t.kind === kind && t.status !== 'completed')!
    const triage = await task(grievanceId, 'triage')
    expect(
      (
        await post(`/api/tasks/${triage.id}/complete`, CERCLE, {
          data: { category: 'exclusion_error', sensitive: false, priority: 'normal' },
        })
      ).status,
    ).toBe(200)
    const investigation = await task(grievanceId, 'investigation')
    expect(
      (
        await post(`/api/tasks/${investigation.id}/complete`, CERCLE, {
          data: {
            findings: 'Le ménage ne remplit plus les critères du ciblage.',
            proposedResolution: 'rejected',
            changesEligibilityOrPayment: false,
          },
        })
      ).status,
    ).toBe(200)
    const filed = await post('/api/appeals', AGENT, {
      contestedCaseId: grievanceId,
      grounds: 'Le ménage a perdu son champ et vit dans la pauvreté.',
    })
    expect(filed.status, JSON.stringify(filed.body)).toBe(201)
    const appealId = filed.body.id as string
    await eventsOf(appealId, 'task.at_risk')
    const [overdue] = await eventsOf(appealId, 'task.overdue')
    expect(overdue!.after).toMatchObject({ kind: 'appeal_review' })
    expect(await escalationTasks(appealId)).toEqual([
      { areaCode: 'ML-2-KATI', candidateRole: 'supervisor', escalationLevel: 1 },
    ])
    await clockNotesLinks(appealId, grievanceId)
    // Someone independent still decides it; the overdue stage changed nothing of that.
    const review = await task(appealId, 'appeal_review')
    const decided = await post(`/api/tasks/${review.id}/complete`, REGION, {
      data: { decision: 'upheld', reasons: 'Les critères ont été appliqués correctement.' },
    })
    expect(decided.status).toBe(200)
    expect((await detail(appealId)).stage).toBe('closed')
  })

  it('every kind continues as new under the operator’s history limit and carries on', async () => {
    await tdb.db
      .insertInto('appSettings')
      .values({ key: 'workflow_history_limit', value: 10 })
      .execute()
    try {
      const opened = await post('/api/referrals', AGENT, {
        areaCode: 'ML-2-KATI-KATI',
        serviceCode: 'cash_transfer',
        consent: { given: true, method: 'written' },
      })
      const caseId = opened.body.id as string
      const partner = `partenaire.${opened.body.partnerCode as string}`
      // Commands keep coming: each new run takes them where the last one stopped. A command that
      // reaches a run in the instant it continues as new is not applied and answers 503 with
      // Retry-After; the client sends it again (an Idempotency-Key makes that safe), and the notes
      // below show it was applied exactly once.
      const command = (path: string, user: string, body: unknown) =>
        eventually(
          async () => {
            const res = await post(path, user, body)
            return res.status === 503 ? undefined : res
          },
          { what: `${path} answered`, timeoutMs: 20_000 },
        )
      expect(
        (await command(`/api/cases/${caseId}/notes`, CERCLE, { text: 'Premier appel.' })).status,
      ).toBe(200)
      expect((await command(`/api/referrals/${caseId}/accept`, partner, {})).status).toBe(200)
      expect(
        (await command(`/api/cases/${caseId}/notes`, CERCLE, { text: 'Second appel.' })).status,
      ).toBe(200)
      const runs = await eventually(
        async () => {
          const found = []
          for await (const run of client.workflow.list({
            query: `WorkflowId = '${caseWorkflowId(caseId)}'`,
          }))
            found.push(run)
          // Visibility catches up: the chain is listed once its last run is, still running.
          const running = found.filter((r) => r.status.name !== 'CONTINUED_AS_NEW')
          return found.length > 1 && running.length === 1 ? found : undefined
        },
        { what: 'a continued run' },
      )
      expect(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length).toBe(runs.length - 1)
      const live = (await detail(caseId)).live!
      expect(live.stage).toBe('in_service')
      expect(live.notes?.map((n) => n.text)).toEqual(['Premier appel.', 'Second appel.'])
      const seqs = (await events(caseId)).map((e) => e.seq)
      expect(seqs).toEqual(seqs.map((_, i) => i + 1))
    } finally {
      await tdb.db.deleteFrom('appSettings').where('key', '=', 'workflow_history_limit').execute()
    }
  })
})
