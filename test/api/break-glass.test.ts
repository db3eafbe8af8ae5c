import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId } from '../../workflows/messages'
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
let kayesCase: string

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  app = createApp({
    db: tdb.db,
    temporal: client,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: worker.taskQueue,
  })
  for (const username of ['superviseur.cercle.kati', 'agent.kati.1', 'gestionnaire']) {
    tokens[username] = (
      await createApiToken(tdb.db, { name: username, userId: await userId(tdb.db, username) })
    ).token
  }
  const input = grievanceInput({ areaCode: 'ML-1-KAYES-KAYES', category: 'sea_gbv' })
  kayesCase = input.caseId
  await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  await eventually(() =>
    tdb.db.selectFrom('cases').select('id').where('id', '=', input.caseId).executeTakeFirst(),
  )
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

const call = (who: string, path: string, init: RequestInit = {}) =>
  app.request(path, {
    ...init,
    headers: { authorization: `Bearer ${tokens[who]}`, 'content-type': 'application/json' },
  })

describe('break-glass access', () => {
  it('opens one sensitive case outside the scope for a designated person, with a reason, audited and reported', async () => {
    const supervisor = 'superviseur.cercle.kati'
    expect((await call(supervisor, `/api/cases/${kayesCase}`)).status).toBe(404)

    const short = await call(supervisor, `/api/cases/${kayesCase}/break-glass`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'urgent' }),
    })
    expect(short.status).toBe(422)
    expect(
      (
        await call('agent.kati.1', `/api/cases/${kayesCase}/break-glass`, {
          method: 'POST',
          body: JSON.stringify({ reason: 'Signalement de danger immédiat pour la plaignante.' }),
        })
      ).status,
    ).toBe(403)

    const granted = await call(supervisor, `/api/cases/${kayesCase}/break-glass`, {
      method: 'POST',
      body: JSON.stringify({ reason: 'Signalement de danger immédiat pour la plaignante.' }),
    })
    expect(granted.status).toBe(201)
    expect((await call(supervisor, `/api/cases/${kayesCase}`)).status).toBe(200)
    // Another case of Kayes stays out of reach: the grant opens that one case only.
    expect((await call(supervisor, '/api/cases/G-other')).status).toBe(404)

    const { rows } = await sql<{ action: string }>`
      select action from access_audit where case_id = ${kayesCase} order by at`.execute(tdb.db)
    expect(rows.map((r) => r.action)).toEqual(['denied', 'break_glass', 'read'])

    expect((await call('agent.kati.1', '/api/reports/break-glass')).status).toBe(403)
    const report = await call('gestionnaire', '/api/reports/break-glass')
    expect(report.status).toBe(200)
    expect(report.headers.get('content-range')).toBe('break-glass 0-0/1')
    expect(await report.json()).toMatchObject([
      {
        caseId: kayesCase,
        username: supervisor,
        reason: 'Signalement de danger immédiat pour la plaignante.',
      },
    ])
    await expect(
      sql`update break_glass_grants set reason = 'rien à voir ici'`.execute(tdb.db),
    ).rejects.toMatchObject({ code: '42501' })
  })
})
