import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId, type OpenCaseInput } from '../../workflows/messages'
import { testCodec } from '../helpers/codec'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { grievanceInput, userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: ReturnType<typeof createApp>
const tokens: Record<string, string> = {}
/** A sensitive case of Kayes, a sensitive case of Kati, a normal case of Kayes. */
let kayesGbv: string
let katiGbv: string
let kayesNormal: string

const USERS = [
  'superviseur.cercle.kati',
  'superviseur.region.koulikoro',
  'superviseur.region.kayes',
  'agent.kati.1',
  'gestionnaire',
]
const REASON = 'Signalement de danger immédiat pour la plaignante.'

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  app = createApp({
    db: tdb.db,
    temporal: client,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: worker.taskQueue,
    publicUrl: 'https://rsu.example.ml',
  })
  for (const username of USERS) {
    tokens[username] = (
      await createApiToken(tdb.db, { name: username, userId: await userId(tdb.db, username) })
    ).token
  }
  const inputs: OpenCaseInput[] = [
    grievanceInput({ areaCode: 'ML-1-KAYES-KAYES', category: 'sea_gbv', sensitive: true }),
    grievanceInput({ areaCode: 'ML-2-KATI-KATI', category: 'sea_gbv', sensitive: true }),
    grievanceInput({ areaCode: 'ML-1-KAYES-KAYES' }),
  ]
  ;[kayesGbv, katiGbv, kayesNormal] = inputs.map((i) => i.caseId) as [string, string, string]
  for (const input of inputs) {
    await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
  }
  await eventually(async () => {
    const rows = await tdb.db
      .selectFrom('cases')
      .select('id')
      .where(
        'id',
        'in',
        inputs.map((i) => i.caseId),
      )
      .execute()
    return rows.length === inputs.length || undefined
  })
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

const call = (who: string, path: string, init: RequestInit = {}) =>
  app.request(path, {
    ...init,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
  })
const breakGlass = (who: string, caseId: string, reason = REASON) =>
  call(who, `/api/cases/${caseId}/break-glass`, {
    method: 'POST',
    body: JSON.stringify({ reason }),
  })
const grants = async (who: string, caseId: string) =>
  (
    await tdb.db
      .selectFrom('breakGlassGrants')
      .select('id')
      .where('userId', '=', await userId(tdb.db, who))
      .where('caseId', '=', caseId)
      .execute()
  ).length

describe('break-glass access', () => {
  it('outside the caller’s areas answers exactly like a missing case, audited, and grants nothing', async () => {
    const supervisor = 'superviseur.cercle.kati'
    expect((await call(supervisor, `/api/cases/${kayesGbv}`)).status).toBe(404)
    const short = await breakGlass(supervisor, kayesGbv, 'urgent')
    expect(short.status).toBe(422)
    expect((await breakGlass('agent.kati.1', kayesGbv)).status).toBe(403)

    const outside = await breakGlass(supervisor, kayesGbv)
    const missing = await breakGlass(supervisor, 'G-nowhere')
    expect(outside.status).toBe(404)
    expect(await outside.text()).toBe(await missing.text())
    expect(await grants(supervisor, kayesGbv)).toBe(0)
    const { rows } = await sql<{ action: string; caseId: string }>`
      select action, case_id from access_audit
      where case_id in (${kayesGbv}, 'G-nowhere') and action in ('denied', 'not_found')
      order by at`.execute(tdb.db)
    // Both refusals recorded: the one on the real case as a denial.
    expect(rows).toEqual(
      expect.arrayContaining([
        { action: 'denied', caseId: kayesGbv },
        { action: 'not_found', caseId: 'G-nowhere' },
      ]),
    )
  })

  it('a normal case in the areas: one running grant per person and case, reported to the focal points', async () => {
    const manager = 'gestionnaire'
    expect((await call(manager, `/api/cases/${kayesNormal}`)).status).toBe(200)
    const answers = await Promise.all([1, 2, 3, 4, 5].map(() => breakGlass(manager, kayesNormal)))
    expect(answers.map((a) => a.status).sort()).toEqual([200, 200, 200, 200, 201])
    expect(await grants(manager, kayesNormal)).toBe(1)
    expect((await breakGlass(manager, kayesNormal)).status).toBe(200)
    expect(await grants(manager, kayesNormal)).toBe(1)

    // The focal points of Kayes (clearance, an area covering the case) get a message.
    const outbox = await tdb.db
      .selectFrom('notificationOutbox')
      .select(['recipient', 'template', 'params'])
      .where('caseId', '=', kayesNormal)
      .where('template', '=', 'break_glass')
      .execute()
    expect(outbox.map((o) => o.recipient).sort()).toEqual([
      'point-focal.kayes@rsu.localhost',
      'superviseur.region.kayes@rsu.localhost',
    ])
    expect(outbox[0]!.params).toEqual({
      reference: `RSU-${kayesNormal}`,
      link: 'https://rsu.example.ml/admin/',
    })
  })

  it('a sensitive case without clearance needs another designated person with clearance', async () => {
    const requester = 'superviseur.cercle.kati'
    const first = await breakGlass(requester, katiGbv)
    expect(first.status).toBe(202)
    const request = (await first.json()) as { id: string; status: string }
    expect(request.status).toBe('pending')
    // Asking again is the same request, not a second one; still no access.
    const again = await breakGlass(requester, katiGbv)
    expect(again.status).toBe(202)
    expect(((await again.json()) as { id: string }).id).toBe(request.id)
    expect((await call(requester, `/api/cases/${katiGbv}`)).status).toBe(404)
    expect(await grants(requester, katiGbv)).toBe(0)

    const approve = (who: string) =>
      call(who, `/api/break-glass-requests/${request.id}/approve`, { method: 'POST' })
    // No clearance, or a designated person of another region: not theirs to decide.
    expect((await approve('agent.kati.1')).status).toBe(403)
    expect((await approve('gestionnaire')).status).toBe(403)
    const elsewhere = await approve('superviseur.region.kayes')
    expect(elsewhere.status).toBe(404)
    expect(((await elsewhere.json()) as { error: { code: string } }).error.code).toBe('NOT_FOUND')
    // The requester, even given clearance meanwhile, never approves their own request.
    await tdb.db
      .updateTable('users')
      .set({ sensitiveClearance: true })
      .where('username', '=', requester)
      .execute()
    const own = await approve(requester)
    expect(own.status).toBe(403)
    expect(((await own.json()) as { error: { code: string } }).error.code).toBe('FOUR_EYES')
    await tdb.db
      .updateTable('users')
      .set({ sensitiveClearance: false })
      .where('username', '=', requester)
      .execute()
    // The table refuses it too, whatever path writes it.
    await expect(
      sql`update break_glass_requests set status = 'approved', decided_by = user_id,
        decided_at = now() where id = ${request.id}`.execute(tdb.db),
    ).rejects.toMatchObject({ code: '23514' })

    const approver = 'superviseur.region.koulikoro'
    const pending = await call(approver, '/api/break-glass-requests')
    expect(pending.status).toBe(200)
    expect(((await pending.json()) as { id: string }[]).map((r) => r.id)).toContain(request.id)
    const approved = await approve(approver)
    expect(approved.status).toBe(200)
    expect(await approved.json()).toMatchObject({ status: 'approved', caseId: katiGbv })
    expect((await approve(approver)).status).toBe(409)

    expect((await call(requester, `/api/cases/${katiGbv}`)).status).toBe(200)
    expect(await grants(requester, katiGbv)).toBe(1)
    expect((await breakGlass(requester, katiGbv)).status).toBe(200)
    expect(await grants(requester, katiGbv)).toBe(1)

    const { rows } = await sql<{ action: string }>`
      select action from access_audit where case_id = ${katiGbv} order by at, id`.execute(tdb.db)
    expect(rows.map((r) => r.action)).toEqual([
      'break_glass_requested',
      'denied',
      'break_glass_approved',
      'break_glass',
      'read',
    ])

    const report = await call(
      'gestionnaire',
      `/api/reports/break-glass?filter=${encodeURIComponent(JSON.stringify({ caseId: katiGbv }))}`,
    )
    expect(report.status).toBe(200)
    expect(await report.json()).toMatchObject([
      {
        caseId: katiGbv,
        username: requester,
        reason: REASON,
        approvedBy: await userId(tdb.db, approver),
      },
    ])
    expect((await call('agent.kati.1', '/api/reports/break-glass')).status).toBe(403)
    await expect(
      sql`update break_glass_grants set reason = 'rien à voir ici'`.execute(tdb.db),
    ).rejects.toMatchObject({ code: '42501' })
  })
})
