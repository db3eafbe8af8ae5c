import { randomUUID } from 'node:crypto'
import type { Client, WorkflowHandle } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import {
  caseWorkflowId,
  completeTaskUpdate,
  grievanceViewQuery,
  type Actor,
} from '../../workflows/messages'
import { TEST_COMMAND_KEYS, TEST_DATA_KEYS, TEST_PAYLOAD_KEYS } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedForCases } from '../helpers/fixtures'
import { spawnEntry, type Spawned } from '../helpers/processes'
import { expectSlaRecomputable } from '../helpers/sla'
import { connectTestClient, eventually, mailbox } from '../helpers/temporal'

/**
 * The worker is a separate process (`npm run worker`), killed with SIGKILL in the middle of a
 * case and started again: nothing is lost, nothing is done twice.
 */
let tdb: TestDatabase
let client: Client
const workers: Spawned[] = []
beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
})
afterAll(async () => {
  for (const w of workers) {
    w.child.kill('SIGKILL')
    await w.exit().catch(() => undefined)
  }
  await client?.connection.close()
  await tdb?.drop()
})

async function openTaskOf(handle: WorkflowHandle, kind: string) {
  return eventually(
    async () =>
      (await handle.query(grievanceViewQuery).catch(() => undefined))?.tasks.find(
        (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
      ),
    { timeoutMs: 60_000, what: `an open ${kind} task` },
  )
}
const complete = (handle: WorkflowHandle, taskId: string, by: Actor, data: unknown) =>
  handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })

describe('a worker killed in the middle of a case', () => {
  it('loses nothing and sends no email twice once a worker is back', async () => {
    const taskQueue = `crash-${randomUUID()}`
    const env = {
      DATABASE_URL: tdb.url,
      TEMPORAL_ADDRESS: inject('temporalAddress'),
      TEMPORAL_TASK_QUEUE: taskQueue,
      SMTP_URL: inject('smtpUrl'),
      PAYLOAD_KEYS: TEST_PAYLOAD_KEYS,
      DATA_KEYS: TEST_DATA_KEYS,
      // The test client signs commands with the suite's key: the worker verifies with it.
      COMMAND_KEYS: TEST_COMMAND_KEYS,
    }
    const startWorker = async () => {
      const w = spawnEntry('activities/worker-main.ts', env)
      workers.push(w)
      await w.waitFor(/worker running/)
      return w
    }
    const first = await startWorker()

    const complainant = `crash-${randomUUID().slice(0, 6)}@exemple.ml`
    const input = grievanceInput({ contact: { email: complainant, locale: 'fr' } })
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue,
      args: [input],
    })
    const triage = await openTaskOf(handle, 'triage')
    const agent: Actor = { userId: triage.assigneeId, role: 'case_worker' }
    await complete(handle, triage.id, agent, {
      category: 'wrong_amount',
      sensitive: false,
      priority: 'normal',
    })
    // The workflow now records the triage, picks an investigator and notifies: kill it mid-way.
    first.child.kill('SIGKILL')
    await first.exit()

    await startWorker()
    const investigation = await openTaskOf(handle, 'investigation')
    await complete(
      handle,
      investigation.id,
      { ...agent, userId: investigation.assigneeId },
      {
        findings: 'Le montant versé correspond au barème du ménage.',
        proposedResolution: 'rejected',
        changesEligibilityOrPayment: false,
      },
    )
    expect(await handle.result()).toMatchObject({ status: 'closed' })
    await expectSlaRecomputable(tdb.db, handle, input.caseId)

    const events = await tdb.db
      .selectFrom('caseEvents')
      .select(['seq', 'type'])
      .where('caseId', '=', input.caseId)
      .orderBy('seq')
      .execute()
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1))
    expect(events.map((e) => e.type)).toEqual([
      'case.opened',
      'task.created',
      'task.completed',
      'case.triaged',
      'task.created',
      'task.completed',
      'case.resolved',
      'case.closed',
    ])
    // Every notification ends sent, or, if the kill fell inside its SMTP exchange, recorded as
    // failed (INTERRUPTED) and not resent: none is sent twice, none stays pending.
    const outbox = await eventually(async () => {
      const rows = await tdb.db
        .selectFrom('notificationOutbox')
        .select(['template', 'status', 'recipient', 'lastError', 'messageId'])
        .where('caseId', '=', input.caseId)
        .orderBy('id')
        .execute()
      return rows.every((r) => r.status === 'sent' || r.status === 'failed') ? rows : undefined
    })
    expect(outbox.map((r) => r.template)).toEqual([
      'acknowledgement',
      'new_task',
      'new_task',
      'outcome',
    ])
    for (const row of outbox.filter((r) => r.status === 'failed')) {
      expect(row.lastError).toContain('INTERRUPTED')
    }
    const caseMail = (await mailbox()).filter((m) => m.text.includes(input.reference!))
    const ids = caseMail.map((m) => m.messageId)
    expect(new Set(ids).size, 'an email was sent twice').toBe(ids.length)
    expect(caseMail.length).toBeLessThanOrEqual(4)
    expect(caseMail.length).toBeGreaterThanOrEqual(outbox.filter((r) => r.status === 'sent').length)
  }, 120_000)
})
