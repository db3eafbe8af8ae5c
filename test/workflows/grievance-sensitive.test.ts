import { readFile } from 'node:fs/promises'
import path from 'node:path'
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import type { ApplicationFailure } from '@temporalio/common'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  caseWorkflowId,
  completeTaskUpdate,
  ErrorCode,
  grievanceViewQuery,
  type Actor,
} from '../../workflows/messages'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { actor, grievanceInput } from '../helpers/fixtures'
import { expectSlaRecomputable } from '../helpers/sla'
import { eventually, mailbox, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

async function openTaskOf(handle: WorkflowHandle, kind: string) {
  return eventually(async () =>
    (await handle.query(grievanceViewQuery).catch(() => undefined))?.tasks.find(
      (t) => t.kind === kind && t.status !== 'completed' && t.status !== 'cancelled',
    ),
  )
}
const complete = (handle: WorkflowHandle, taskId: string, by: Actor, data: unknown) =>
  handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })

describe('a sensitive grievance (sexual exploitation and abuse)', () => {
  it('goes to designated focal points only, and its narrative appears nowhere outside the encrypted history', async () => {
    const canary = 'canary-7d41-Aminata-Kati'
    const input = grievanceInput({
      category: 'sea_gbv',
      narrative: `Un agent a exigé des faveurs en échange de l'inscription. ${canary}`,
      contact: { email: 'survivante@exemple.ml', locale: 'fr' },
      anonymous: false,
    })
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
    const focal = await actor(tdb.db, 'point-focal.koulikoro', 'case_worker', true)
    const agent = await actor(tdb.db, 'agent.kati.1', 'case_worker')
    const regional = await actor(tdb.db, 'superviseur.region.koulikoro', 'supervisor', true)
    const cercle = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')

    const triage = await openTaskOf(handle, 'triage')
    expect(triage.assigneeId).toBe(focal.userId)
    expect(triage.requiresClearance).toBe(true)
    const refused = await complete(handle, triage.id, agent, {
      category: 'sea_gbv',
      sensitive: true,
      priority: 'urgent',
    }).then(
      () => undefined,
      (e: WorkflowUpdateFailedError) => e.cause as ApplicationFailure,
    )
    expect(refused?.type).toBe(ErrorCode.NOT_ALLOWED)
    await complete(handle, triage.id, focal, {
      category: 'sea_gbv',
      sensitive: true,
      priority: 'urgent',
    })

    const investigation = await openTaskOf(handle, 'investigation')
    expect(investigation.assigneeId).toBe(focal.userId)
    await complete(handle, investigation.id, focal, {
      findings: `Témoignage recueilli, mesures de protection prises. ${canary}`,
      proposedResolution: 'upheld',
      changesEligibilityOrPayment: false,
    })
    // A sensitive case is approved by a designated supervisor of the region, not the cercle.
    const approval = await openTaskOf(handle, 'approval')
    expect(approval.areaCode).toBe('ML-2')
    expect(approval.assigneeId).toBe(regional.userId)
    const notCleared = await complete(handle, approval.id, cercle, { decision: 'approve' }).then(
      () => undefined,
      (e: WorkflowUpdateFailedError) => e.cause as ApplicationFailure,
    )
    expect(notCleared?.type).toBe(ErrorCode.NOT_ALLOWED)
    await complete(handle, approval.id, regional, { decision: 'approve' })
    await handle.result()
    const row = await tdb.db
      .selectFrom('cases')
      .select(['sensitive', 'status'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ sensitive: true, status: 'closed' })
    await expectSlaRecomputable(tdb.db, handle, input.caseId)

    // Temporal: the raw history (every payload and failure), the workflow id, search attributes.
    const { history } = await client.workflowService.getWorkflowExecutionHistory({
      namespace: inject('namespace'),
      execution: { workflowId: caseWorkflowId(input.caseId) },
    })
    const raw = JSON.stringify(history, (_k, v: unknown) =>
      v instanceof Uint8Array ? Buffer.from(v).toString('latin1') : v,
    )
    expect(raw.length).toBeGreaterThan(10_000)
    expect(raw).not.toContain(canary)
    expect(raw).not.toContain('survivante@exemple.ml')
    const described = await handle.describe()
    expect(JSON.stringify(described.raw.workflowExecutionInfo?.searchAttributes)).not.toContain(
      canary,
    )
    expect(described.workflowId).not.toContain('Aminata')

    // Emails: acknowledgement and outcome carry the reference, never the narrative.
    const mail = await eventually(async () => {
      const all = await mailbox('survivante@exemple.ml')
      return all.length === 2 ? all : undefined
    })
    expect(mail.map((m) => m.subject + m.text).join()).toContain(input.reference!)
    expect(JSON.stringify(await mailbox())).not.toContain(canary)

    // PostgreSQL: no free text is projected anywhere.
    for (const table of ['cases', 'tasks', 'case_events', 'notification_outbox']) {
      const { rows } = await sql<{ n: number }>`
        select count(*)::int as n from ${sql.table(table)} t where t::text like ${'%' + canary + '%'}`.execute(
        tdb.db,
      )
      expect(rows[0]!.n, table).toBe(0)
    }
    // The Temporal dev server's log.
    const serverLog = await readFile(path.join(inject('tmpRoot'), 'temporal', 'server.log'), 'utf8')
    expect(serverLog).not.toContain(canary)
  })
})
