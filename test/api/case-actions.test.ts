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
let token: string

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
    await createApiToken(tdb.db, { name: 'agent', userId: await userId(tdb.db, 'agent.kati.1') })
  ).token
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

async function openCase(areaCode = 'ML-2-KATI-KATI') {
  const input = grievanceInput({ areaCode })
  await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  await eventually(() =>
    tdb.db.selectFrom('tasks').select('id').where('caseId', '=', input.caseId).executeTakeFirst(),
  )
  return input.caseId
}
const post = (path: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('case actions: notes and links', () => {
  it('keeps a note in the case (live detail) but only its number in the audit log', async () => {
    const caseId = await openCase()
    const text = 'Le plaignant rappellera jeudi avec sa carte.'
    expect((await post(`/api/cases/${caseId}/notes`, { text })).status).toBe(200)
    const detail = (await (
      await app.request(`/api/cases/${caseId}`, { headers: { authorization: `Bearer ${token}` } })
    ).json()) as { live: { notes: { no: number; text: string; role: string }[] } }
    expect(detail.live.notes).toMatchObject([{ no: 1, text, role: 'case_worker' }])
    const { rows } = await sql<{ type: string; row: string }>`
      select type, t::text as row from case_events t where case_id = ${caseId} order by seq`.execute(
      tdb.db,
    )
    expect(rows.map((r) => r.type)).toContain('case.note_added')
    expect(rows.map((r) => r.row).join()).not.toContain('rappellera')
    expect((await post(`/api/cases/${caseId}/notes`, { text: 'x' })).status).toBe(422)
  })

  it('links a case to another visible one, and refuses one out of scope as if it did not exist', async () => {
    const a = await openCase()
    const b = await openCase()
    const kayes = await openCase('ML-1-KAYES-KAYES')
    expect((await post(`/api/cases/${a}/links`, { toCaseId: b, kind: 'related' })).status).toBe(200)
    const links = await tdb.db
      .selectFrom('caseLinks')
      .selectAll()
      .where('fromCaseId', '=', a)
      .execute()
    expect(links).toMatchObject([{ toCaseId: b, kind: 'related' }])
    const outside = await post(`/api/cases/${a}/links`, { toCaseId: kayes, kind: 'related' })
    const missing = await post(`/api/cases/${a}/links`, { toCaseId: 'G-NOPE', kind: 'related' })
    expect(outside.status).toBe(422)
    expect(await outside.json()).toEqual(await missing.json())
    // Linking twice the same way is refused by the workflow.
    expect((await post(`/api/cases/${a}/links`, { toCaseId: b, kind: 'related' })).status).toBe(422)
  })
})
