import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDciRegistry } from '../../activities/registry/dci'
import { startReverification } from '../../activities/reverification'
import {
  caseWorkflowId,
  completeTaskUpdate,
  ErrorCode,
  grievanceViewQuery,
  withdrawUpdate,
  type Actor,
} from '../../workflows/messages'
import {
  reverificationViewQuery,
  spawnedReverificationId,
  type ReverificationView,
} from '../../workflows/kinds/reverification/messages'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { actor, grievanceInput, seedForCases } from '../helpers/fixtures'
import { dciRegistry, REGISTRY_URL, startRegistryWorker } from '../helpers/registry'
import { connectTestClient, eventually, mailbox, type RunningWorker } from '../helpers/temporal'

const KATI = 'ML-2-KATI-KATI'
// RSU-0000003 lives in Kati; the registry has it as not eligible, with an old score.
const registry = dciRegistry([
  {
    id: 'RSU-0000003',
    areaCode: KATI,
    members: 7,
    povertyScore: 31,
    eligible: false,
    programmes: [],
  },
  {
    id: 'RSU-0000007',
    areaCode: KATI,
    members: 4,
    povertyScore: 35,
    eligible: false,
    programmes: [],
  },
  {
    id: 'RSU-0000008',
    areaCode: KATI,
    members: 5,
    povertyScore: 20,
    eligible: true,
    programmes: ['jigisemejiri'],
  },
  {
    id: 'RSU-0000009',
    areaCode: KATI,
    members: 3,
    povertyScore: 28,
    eligible: false,
    programmes: [],
  },
])
const server = setupServer(...registry.handlers)

let tdb: TestDatabase
let client: Client
let worker: RunningWorker

beforeAll(async () => {
  server.listen({ onUnhandledRequest: 'bypass' })
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  // Revisits within a second, two failed visits at most: the policy comes from the database.
  await tdb.db
    .updateTable('appSettings')
    .set({ value: { maxVisitAttempts: 2, revisitDelaySeconds: 1 } })
    .where('key', '=', 'reverification_policy')
    .execute()
  client = await connectTestClient()
  worker = await startRegistryWorker(tdb.db, {
    client,
    registry: createDciRegistry({ baseUrl: REGISTRY_URL, token: 'test-token' }),
  })
})
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
  server.close()
})

const view = (handle: WorkflowHandle) =>
  handle.query(reverificationViewQuery).catch((error: Error) => {
    if (error.message.includes('still opening')) return undefined
    throw error
  })

async function openTaskOf(handle: WorkflowHandle, kind: string, query = view) {
  return eventually(
    async () =>
      (await query(handle))?.tasks.find(
        (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
      ),
    { what: `an open ${kind} task`, timeoutMs: 30_000 },
  )
}

async function complete(handle: WorkflowHandle, taskId: string, by: Actor, data: unknown) {
  return handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })
}

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error, 'the update was accepted').toBeInstanceOf(WorkflowUpdateFailedError)
  return (error as WorkflowUpdateFailedError).cause as ApplicationFailure
}

const closed = (handle: WorkflowHandle) =>
  eventually(
    async () => {
      const v = await view(handle)
      return v?.status === 'closed' ? v : undefined
    },
    { what: 'the case closed', timeoutMs: 60_000 },
  )

const projected = (caseId: string, v: ReverificationView) =>
  eventually(
    async () => {
      const row = await tdb.db
        .selectFrom('cases')
        .selectAll()
        .where('id', '=', caseId)
        .executeTakeFirst()
      return row && row.lastEventSeq >= v.seq ? row : undefined
    },
    { what: 'the case projected' },
  )

/** The visit that re-scores a household: 40 − 2×9 − 1.5×3 + 1.5×2 + 0.8×1 = 21.3 (≤ 25). */
const visitedData = {
  outcome: 'visited',
  members: 9,
  variables: { children_under_5: 3, rooms: 2, improved_roof: 0, livestock_units: 1 },
}

async function agentOf(task: { assigneeId: string | null }): Promise<Actor> {
  expect(task.assigneeId, 'the visit was assigned to an enumerator of the commune').toBeTruthy()
  return { userId: task.assigneeId, role: 'case_worker' }
}

describe('an exclusion grievance', () => {
  it('spawns a re-verification: visit, new score, supervisor approval, one registry update, household notified', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const input = grievanceInput({
      category: 'exclusion_error',
      contact: { email: 'menage.exclu@exemple.ml', locale: 'fr' },
    })
    const grievance = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
    const grievanceView = (h: WorkflowHandle) =>
      h.query(grievanceViewQuery).catch(() => undefined) as Promise<ReverificationView | undefined>
    const triage = await openTaskOf(grievance, 'triage', grievanceView)
    await complete(grievance, triage.id, await agentOf(triage), {
      category: 'exclusion_error',
      sensitive: false,
      priority: 'normal',
    })
    const investigation = await openTaskOf(grievance, 'investigation', grievanceView)
    await complete(grievance, investigation.id, await agentOf(investigation), {
      findings: 'Le ménage remplit les critères mais a été omis lors du recensement.',
      proposedResolution: 'upheld',
      changesEligibilityOrPayment: true,
      householdId: 'RSU-0000003',
    })
    const approval = await openTaskOf(grievance, 'approval', grievanceView)
    await complete(grievance, approval.id, supervisor, { decision: 'approve' })

    // The action stage spawns the household's re-verification, linked to the grievance.
    const rvId = spawnedReverificationId(input.caseId)
    const rv = client.workflow.getHandle(caseWorkflowId(rvId))
    const visit = await openTaskOf(rv, 'visit')
    const enumerator = await agentOf(visit)
    await complete(rv, visit.id, enumerator, visitedData)

    const proposal = await openTaskOf(rv, 'approval')
    const scored = (await view(rv))!
    expect(scored.proposal).toMatchObject({
      score: 21.3,
      eligible: true,
      previousEligible: false,
      change: 'include',
      formulaVersion: 'pmt-2026-v1',
      proposedBy: enumerator.userId,
    })
    // Nothing reaches the registry before a supervisor approves; the enumerator cannot approve.
    expect(registry.updates()).toHaveLength(0)
    const refused = await refusal(complete(rv, proposal.id, enumerator, { decision: 'approve' }))
    expect(refused.type).toBe(ErrorCode.NOT_ALLOWED)
    await complete(rv, proposal.id, supervisor, { decision: 'approve' })

    const done = await closed(rv)
    expect(done.closeReason).toBe('completed')
    expect(registry.updates()).toHaveLength(1)
    expect(registry.applied.size).toBe(1)
    const [write] = [...registry.applied.values()]
    const record = write!.message.update_request[0]!.data.reg_records[0]!
    expect(record).toMatchObject({
      group_identifier: [{ identifier_type: 'HOUSEHOLD_ID', identifier_value: 'RSU-0000003' }],
      poverty_score: 21.3,
      pmt_formula_version: 'pmt-2026-v1',
      eligibility_status: 'eligible',
    })
    expect(registry.updates()[0]!.idempotencyKey).toBe(write!.message.transaction_id)

    // Projected: the case with its household and parent, the link, the score and its version.
    const row = await projected(rvId, done)
    expect(row).toMatchObject({
      kind: 'reverification',
      status: 'closed',
      householdId: 'RSU-0000003',
      parentCaseId: input.caseId,
      areaCode: KATI,
    })
    expect(
      await tdb.db.selectFrom('caseLinks').selectAll().where('toCaseId', '=', rvId).execute(),
    ).toMatchObject([{ fromCaseId: input.caseId, kind: 'spawned' }])
    const score = await tdb.db
      .selectFrom('householdScores')
      .selectAll()
      .where('caseId', '=', rvId)
      .executeTakeFirstOrThrow()
    expect(Number(score.score)).toBe(21.3)
    expect(score.formulaVersion).toBe('pmt-2026-v1')
    const household = await tdb.db
      .selectFrom('households')
      .selectAll()
      .where('id', '=', 'RSU-0000003')
      .executeTakeFirstOrThrow()
    expect(household).toMatchObject({
      eligible: true,
      pmtFormulaVersion: 'pmt-2026-v1',
      members: 9,
    })
    expect(Number(household.pmtScore)).toBe(21.3)

    // The household (the complainant) is told, by a message that carries the case reference only.
    const mail = await eventually(
      async () => (await mailbox('menage.exclu@exemple.ml')).find((m) => m.subject.includes(rvId)),
      { what: 'the household notified' },
    )
    expect(mail.text).not.toContain('21.3')
  })
})

describe('a re-verification', () => {
  it('waits while the registry is down, then completes with exactly one write', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const caseId = 'RV-down-0000001'
    // Down at opening (the household read) …
    registry.down(2)
    await startReverification(client, worker.taskQueue, {
      caseId,
      householdId: 'RSU-0000007',
      trigger: 'manager',
      openedBy: supervisor,
    })
    const handle = client.workflow.getHandle(caseWorkflowId(caseId))
    const visit = await openTaskOf(handle, 'visit')
    await complete(handle, visit.id, await agentOf(visit), visitedData)
    const approval = await openTaskOf(handle, 'approval')
    // … and down again when the approved change is written: three refused attempts.
    const before = registry.updates().length
    registry.down(3)
    await complete(handle, approval.id, supervisor, { decision: 'approve' })

    const done = await closed(handle)
    expect(done.closeReason).toBe('completed')
    const attempts = registry.updates().slice(before)
    expect(attempts).toHaveLength(4)
    // Every attempt is the same transaction, and the registry applied it once.
    expect(new Set(attempts.map((a) => a.idempotencyKey)).size).toBe(1)
    const key = attempts[0]!.idempotencyKey!
    expect(registry.applied.has(key)).toBe(true)
    const recorded = await tdb.db
      .selectFrom('registryWrites')
      .selectAll()
      .where('caseId', '=', caseId)
      .execute()
    expect(recorded).toMatchObject([{ idempotencyKey: key, status: 'sent', attempts: 4 }])
  })

  it('writes once when the registry applied a change but its answer was lost (the attempt is retried)', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const caseId = 'RV-lost-0000001'
    await startReverification(client, worker.taskQueue, {
      caseId,
      householdId: 'RSU-0000007',
      trigger: 'manager',
      openedBy: supervisor,
    })
    const handle = client.workflow.getHandle(caseWorkflowId(caseId))
    const visit = await openTaskOf(handle, 'visit')
    await complete(handle, visit.id, await agentOf(visit), visitedData)
    const approval = await openTaskOf(handle, 'approval')
    const before = registry.updates().length
    const appliedBefore = registry.applied.size
    registry.loseAnswers(1)
    await complete(handle, approval.id, supervisor, { decision: 'approve' })
    const done = await closed(handle)
    expect(done.closeReason).toBe('completed')
    const attempts = registry.updates().slice(before)
    expect(attempts).toHaveLength(2)
    expect(attempts[0]!.idempotencyKey).toBe(attempts[1]!.idempotencyKey)
    expect(registry.applied.size).toBe(appliedBefore + 1)
  })

  it('hands a change the registry refuses for good to a supervisor, without retrying it', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const caseId = 'RV-reject-00001'
    await startReverification(client, worker.taskQueue, {
      caseId,
      householdId: 'RSU-0000008',
      trigger: 'manager',
      openedBy: supervisor,
    })
    const handle = client.workflow.getHandle(caseWorkflowId(caseId))
    const visit = await openTaskOf(handle, 'visit')
    await complete(handle, visit.id, await agentOf(visit), visitedData)
    const approval = await openTaskOf(handle, 'approval')
    const before = registry.updates().length
    registry.reject(1)
    await complete(handle, approval.id, supervisor, { decision: 'approve' })
    const review = await openTaskOf(handle, 'registry_review')
    expect(review.candidateRole).toBe('supervisor')
    expect(registry.updates().length - before).toBe(1)
    await complete(handle, review.id, supervisor, { decision: 'close' })
    const done = await closed(handle)
    expect(done.closeReason).toBe('registry_rejected')
    expect(registry.updates().length - before, 'a refusal is not retried').toBe(1)
    const write = await tdb.db
      .selectFrom('registryWrites')
      .select(['status', 'lastError'])
      .where('caseId', '=', caseId)
      .executeTakeFirstOrThrow()
    expect(write.status).toBe('rejected')
    expect(write.lastError).toContain('rjct.record.locked')
  })

  it('reschedules absent and inaccessible visits, pauses its clock for insecurity, and ends unreachable after a supervisor review', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const caseId = 'RV-unreach-0001'
    await startReverification(client, worker.taskQueue, {
      caseId,
      householdId: 'RSU-0000009',
      trigger: 'manager',
      openedBy: supervisor,
    })
    const handle = client.workflow.getHandle(caseWorkflowId(caseId))
    const first = await openTaskOf(handle, 'visit')
    await complete(handle, first.id, await agentOf(first), {
      outcome: 'access_impossible',
      reason: 'security',
    })
    // Revisited after the policy's delay, its clock paused meanwhile.
    const second = await openTaskOf(handle, 'visit')
    expect(second.id).not.toBe(first.id)
    await complete(handle, second.id, await agentOf(second), { outcome: 'absent' })
    // Two failed attempts (the policy's maximum): a supervisor reviews, nobody visits again.
    const review = await openTaskOf(handle, 'unreachable_review')
    expect(review.candidateRole).toBe('supervisor')
    expect(registry.updates().some((u) => JSON.stringify(u.body).includes('RSU-0000009'))).toBe(
      false,
    )
    await complete(handle, review.id, supervisor, { decision: 'confirm_unreachable' })
    const done = await closed(handle)
    expect(done.closeReason).toBe('unreachable')
    expect(done.attempts.map((a) => a.outcome)).toEqual(['access_impossible', 'absent'])
    await projected(caseId, done)
    const types = (
      await tdb.db
        .selectFrom('caseEvents')
        .select('type')
        .where('caseId', '=', caseId)
        .orderBy('seq')
        .execute()
    ).map((e) => e.type)
    expect(types).toContain('visit.rescheduled')
    // Insecurity stops the clock until the next visit; absence does not.
    expect(types.filter((t) => t.startsWith('sla.'))).toEqual(['sla.paused', 'sla.resumed'])
    expect(types).not.toContain('registry.updated')
  })

  it('refuses an approval by the person who made the visit (four eyes)', async () => {
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const caseId = 'RV-foureyes-001'
    await startReverification(client, worker.taskQueue, {
      caseId,
      householdId: 'RSU-0000008',
      trigger: 'manager',
      openedBy: supervisor,
    })
    const handle = client.workflow.getHandle(caseWorkflowId(caseId))
    const visit = await openTaskOf(handle, 'visit')
    // A supervisor may do a visit, but then cannot approve its result.
    await complete(handle, visit.id, supervisor, visitedData)
    const approval = await openTaskOf(handle, 'approval')
    const refused = await refusal(
      complete(handle, approval.id, supervisor, { decision: 'approve' }),
    )
    expect(refused.type).toBe(ErrorCode.FOUR_EYES)
    const regional = await actor(tdb.db, 'superviseur.region.koulikoro', 'supervisor')
    await complete(handle, approval.id, regional, {
      decision: 'reject',
      reason: 'données à revoir',
    })
    // A rejection sends the visit back to the one who made it.
    const again = await openTaskOf(handle, 'visit')
    expect(again.assigneeId).toBe(supervisor.userId)
    expect(again.sentBackReason).toBe('données à revoir')
    // Only a supervisor withdraws a re-verification.
    const enumerator = await actor(tdb.db, 'agent.kati.1', 'case_worker')
    expect(
      (
        await refusal(
          handle.executeUpdate(withdrawUpdate, { args: [{ actor: enumerator, reason: 'x' }] }),
        )
      ).type,
    ).toBe(ErrorCode.NOT_ALLOWED)
    await handle.executeUpdate(withdrawUpdate, { args: [{ actor: supervisor, reason: 'doublon' }] })
    expect((await closed(handle)).closeReason).toBe('withdrawn')
  })
})
