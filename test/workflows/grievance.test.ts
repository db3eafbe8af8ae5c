import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  caseWorkflowId,
  completeTaskUpdate,
  ErrorCode,
  grievanceViewQuery,
  reassignTaskUpdate,
  type Actor,
  type GrievanceView,
  type OpenCaseInput,
} from '../../workflows/messages'
import { reopenCase } from '../../api/commands/reopen'
import { expectSlaRecomputable } from '../helpers/sla'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { actor, grievanceInput, userId } from '../helpers/fixtures'
import { eventually, mailbox, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

const events = (caseId: string) =>
  tdb.db
    .selectFrom('caseEvents')
    .select(['seq', 'type', 'actorRole', 'after', 'data'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()

async function open(input: OpenCaseInput) {
  return client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
}

const view = (handle: WorkflowHandle) => handle.query(grievanceViewQuery)

/** Waits until the case has an open task of `kind`, and returns it. */
async function openTaskOf(handle: WorkflowHandle, kind: string) {
  return eventually(
    async () => {
      // Right after the start, the case may still be loading its policy: not an error.
      const state = await view(handle).catch((error: Error) => {
        if (error.message.includes('still opening')) return undefined
        throw error
      })
      return state?.tasks.find(
        (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
      )
    },
    { what: `an open ${kind} task` },
  )
}

/** Waits until every event the workflow recorded is projected. */
async function settled(handle: WorkflowHandle, caseId: string) {
  const { seq } = await view(handle)
  await eventually(async () => ((await events(caseId)).length >= seq ? true : undefined), {
    what: `event ${seq} projected`,
  })
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
  const cause = (error as WorkflowUpdateFailedError).cause
  expect(cause).toBeInstanceOf(ApplicationFailure)
  return cause as ApplicationFailure
}

describe('a grievance from submission to closure', () => {
  it('is acknowledged, triaged, investigated by the least-loaded agent, approved, communicated and closed', async () => {
    const complainant = 'plaignant.e2e@exemple.ml'
    const agent1 = await userId(tdb.db, 'agent.kati.1')
    const agent2 = await actor(tdb.db, 'agent.kati.2', 'case_worker')
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    // agent.kati.1 already has open work elsewhere: the new case must go to agent.kati.2.
    await tdb.db
      .insertInto('cases')
      .values({
        id: 'G-busy',
        workflowId: 'case-G-busy',
        kind: 'grievance',
        stage: 'investigation',
        areaCode: 'ML-2-KATI-KATI',
        category: null,
        channel: null,
        openedAt: new Date(),
        closedAt: null,
        parentCaseId: null,
        householdId: null,
        ackDueAt: null,
        resolveDueAt: null,
        lastEventSeq: 1,
        reference: null,
        satisfaction: null,
      })
      .execute()
    await tdb.db
      .insertInto('tasks')
      .values({
        id: 'G-busy-T1',
        caseId: 'G-busy',
        kind: 'investigation',
        status: 'claimed',
        candidateRole: 'case_worker',
        areaCode: 'ML-2-KATI-KATI',
        assigneeId: agent1,
        dueAt: null,
        createdAt: new Date(),
        completedAt: null,
        completedBy: null,
        result: null,
        lastEventSeq: 1,
        escalationLevel: null,
      })
      .execute()

    const input = grievanceInput({
      narrative: "Je n'ai pas reçu le paiement de septembre.",
      contact: { email: complainant, locale: 'fr' },
    })
    const handle = await open(input)

    const [ack] = await eventually(
      async () => {
        const mail = await mailbox(complainant)
        return mail.length ? mail : undefined
      },
      { what: 'the acknowledgement' },
    )
    expect(ack!.subject + ack!.text).toContain(input.reference!)
    expect(ack!.text).not.toContain('paiement de septembre')

    const triage = await openTaskOf(handle, 'triage')
    expect(triage.assigneeId).toBe(agent2.userId)
    await complete(handle, triage.id, agent2, {
      category: 'payment_not_received',
      sensitive: false,
      priority: 'high',
    })

    const investigation = await openTaskOf(handle, 'investigation')
    expect(investigation.assigneeId).toBe(agent2.userId)
    await complete(handle, investigation.id, agent2, {
      findings: 'Le ménage figure sur la liste de paie mais le virement a été rejeté.',
      proposedResolution: 'upheld',
      changesEligibilityOrPayment: true,
    })

    const approval = await openTaskOf(handle, 'approval')
    expect(approval.assigneeId).toBe(supervisor.userId)
    expect(approval.areaCode).toBe('ML-2-KATI')
    await complete(handle, approval.id, supervisor, { decision: 'approve' })

    const final = await handle.result()
    expect(final).toMatchObject({ status: 'closed', closeReason: 'resolved' })

    expect((await events(input.caseId)).map((e) => e.type)).toEqual([
      'case.opened',
      'task.created',
      'task.completed',
      'case.triaged',
      'task.created',
      'task.completed',
      'task.created',
      'approval.decided',
      'case.resolved',
      'case.closed',
    ])
    const row = await tdb.db
      .selectFrom('cases')
      .select(['status', 'stage', 'priority', 'slaState', 'reference'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({
      status: 'closed',
      stage: 'closed',
      priority: 'high',
      slaState: 'met',
      reference: input.reference,
    })

    const toComplainant = await eventually(
      async () => {
        const mail = await mailbox(complainant)
        return mail.length === 2 ? mail : undefined
      },
      { what: 'the outcome email' },
    )
    expect(toComplainant[1]!.text).toContain(input.reference!)
    // Every email exactly once: one acknowledgement, one outcome, one per new task.
    const agentMail = await mailbox('agent.kati.2@rsu.localhost')
    expect(agentMail.filter((m) => m.text.includes(input.reference!))).toHaveLength(2)
    const supervisorMail = await mailbox('superviseur.cercle.kati@rsu.localhost')
    expect(supervisorMail.filter((m) => m.text.includes(input.reference!))).toHaveLength(1)
    const outbox = await tdb.db
      .selectFrom('notificationOutbox')
      .select(['template', 'status'])
      .where('caseId', '=', input.caseId)
      .orderBy('id')
      .execute()
    expect(outbox).toEqual([
      { template: 'acknowledgement', status: 'sent' },
      { template: 'new_task', status: 'sent' },
      { template: 'new_task', status: 'sent' },
      { template: 'new_task', status: 'sent' },
      { template: 'outcome', status: 'sent' },
    ])

    // The SLA clock rebuilt from case_events alone equals the one the workflow holds.
    expect((await expectSlaRecomputable(tdb.db, handle, input.caseId)).state).toBe(row.slaState)
  })
})

describe('refused messages change nothing', () => {
  it('refuses an unknown task, an invalid form, a completed task and approving one’s own proposal', async () => {
    const agent = await actor(tdb.db, 'agent.kati.1', 'case_worker')
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const input = grievanceInput()
    const handle = await open(input)
    const triage = await openTaskOf(handle, 'triage')
    const count = async () => (await events(input.caseId)).length
    await settled(handle, input.caseId)
    const before = await count()

    expect((await refusal(complete(handle, 'nope', agent, {}))).type).toBe(ErrorCode.TASK_NOT_FOUND)
    const invalid = await refusal(
      complete(
        handle,
        triage.id,
        { ...agent, userId: triage.assigneeId },
        {
          category: 'not-a-category',
          sensitive: 'yes',
        },
      ),
    )
    expect(invalid.type).toBe(ErrorCode.INVALID_FORM)
    expect(invalid.details?.[0]).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ path: 'category' }),
        expect.objectContaining({ path: 'sensitive' }),
      ]),
    )
    expect(await count()).toBe(before)

    // The supervisor takes the investigation over, then may not approve their own proposal.
    const assignee: Actor = { ...agent, userId: triage.assigneeId }
    await complete(handle, triage.id, assignee, {
      category: 'wrong_amount',
      sensitive: false,
      priority: 'normal',
    })
    expect(
      (
        await refusal(
          complete(handle, triage.id, assignee, {
            category: 'wrong_amount',
            sensitive: false,
            priority: 'normal',
          }),
        )
      ).type,
    ).toBe(ErrorCode.TASK_ALREADY_COMPLETED)
    const investigation = await openTaskOf(handle, 'investigation')
    await complete(handle, investigation.id, supervisor, {
      findings: 'Montant vérifié avec la liste de paie du trimestre.',
      proposedResolution: 'partly_upheld',
      changesEligibilityOrPayment: true,
    })
    const approval = await openTaskOf(handle, 'approval')
    await settled(handle, input.caseId)
    const afterProposal = await count()
    expect(
      (await refusal(complete(handle, approval.id, supervisor, { decision: 'approve' }))).type,
    ).toBe(ErrorCode.FOUR_EYES)
    expect(
      (await refusal(complete(handle, approval.id, agent, { decision: 'approve' }))).type,
    ).toBe(ErrorCode.NOT_ALLOWED)
    expect(await count()).toBe(afterProposal)
    const state: GrievanceView = await view(handle)
    expect(state.stage).toBe('approval')

    // A rejection sends the investigation back, with its reason, to the one who proposed it.
    const regional = await actor(tdb.db, 'superviseur.region.koulikoro', 'supervisor')
    await complete(handle, approval.id, regional, {
      decision: 'reject',
      reason: 'Joindre la preuve du virement.',
    })
    const redo = await openTaskOf(handle, 'investigation')
    expect(redo.id).not.toBe(investigation.id)
    expect(redo.assigneeId).toBe(supervisor.userId)
    expect(redo.sentBackReason).toBe('Joindre la preuve du virement.')
    await handle.terminate('test over')
  })

  it('accepts exactly one of ten parallel completions of a task: one event, one email', async () => {
    const input = grievanceInput()
    const handle = await open(input)
    const triage = await openTaskOf(handle, 'triage')
    const assignee: Actor = { userId: triage.assigneeId, role: 'case_worker' }
    const results = await Promise.allSettled(
      Array.from({ length: 10 }, () =>
        complete(handle, triage.id, assignee, {
          category: 'data_correction',
          sensitive: false,
          priority: 'normal',
        }),
      ),
    )
    expect(results.filter((r) => r.status === 'fulfilled')).toHaveLength(1)
    const refused = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected')
    expect(refused).toHaveLength(9)
    for (const r of refused) {
      expect(((r.reason as WorkflowUpdateFailedError).cause as ApplicationFailure).type).toBe(
        ErrorCode.TASK_ALREADY_COMPLETED,
      )
    }
    await openTaskOf(handle, 'investigation')
    const completed = (await events(input.caseId)).filter((e) => e.type === 'task.completed')
    expect(completed).toHaveLength(1)
    // One investigation task created, so one "new task" email for it.
    const newTask = () =>
      tdb.db
        .selectFrom('notificationOutbox')
        .select('template')
        .where('caseId', '=', input.caseId)
        .where('template', '=', 'new_task')
        .execute()
    await eventually(async () => ((await newTask()).length >= 2 ? true : undefined), {
      what: 'the investigation task notification',
    })
    expect(await newTask()).toHaveLength(2)
    await handle.terminate('test over')
  })
})

describe('a long case', () => {
  it('continues as new when its history grows, and carries on with its state intact', async () => {
    await tdb.db
      .insertInto('appSettings')
      .values({ key: 'workflow_history_limit', value: 12 })
      .execute()
    try {
      const input = grievanceInput()
      const handle = await open(input)
      const triage = await openTaskOf(handle, 'triage')
      const agent: Actor = { userId: triage.assigneeId, role: 'case_worker' }
      await complete(handle, triage.id, agent, {
        category: 'wrong_amount',
        sensitive: false,
        priority: 'normal',
      })
      const investigation = await openTaskOf(handle, 'investigation')
      await complete(handle, investigation.id, agent, {
        findings: 'Montant conforme au barème, explication donnée.',
        proposedResolution: 'information_given',
        changesEligibilityOrPayment: false,
      })
      // The handle follows the chain of runs to the last one.
      expect(await handle.result()).toMatchObject({ status: 'closed', closeReason: 'resolved' })
      const runs = []
      for await (const run of client.workflow.list({
        query: `WorkflowId = '${caseWorkflowId(input.caseId)}'`,
      })) {
        runs.push(run)
      }
      expect(runs.length).toBeGreaterThan(1)
      expect(runs.filter((r) => r.status.name === 'CONTINUED_AS_NEW').length).toBe(runs.length - 1)
      const rows = await events(input.caseId)
      expect(rows.map((e) => e.seq)).toEqual(rows.map((_, i) => i + 1))
      expect(rows.at(-1)!.type).toBe('case.closed')
      await expectSlaRecomputable(tdb.db, handle, input.caseId)
    } finally {
      await tdb.db.deleteFrom('appSettings').where('key', '=', 'workflow_history_limit').execute()
    }
  })
})

describe('assignment', () => {
  it('skips a case worker on leave, and a supervisor can override it', async () => {
    const agent1 = await actor(tdb.db, 'agent.kati.1', 'case_worker')
    const agent2 = await actor(tdb.db, 'agent.kati.2', 'case_worker')
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    // agent.kati.2 has the least work but is on leave: agent.kati.1 gets the case.
    await tdb.db
      .updateTable('users')
      .set({ onLeave: true })
      .where('id', '=', agent2.userId!)
      .execute()
    try {
      const handle = await open(grievanceInput())
      const triage = await openTaskOf(handle, 'triage')
      expect(triage.assigneeId).toBe(agent1.userId)

      const refused = await refusal(
        handle.executeUpdate(reassignTaskUpdate, {
          args: [{ taskId: triage.id, assigneeId: agent2.userId!, actor: agent1 }],
        }),
      )
      expect(refused.type).toBe(ErrorCode.NOT_ALLOWED)
      const moved = await handle.executeUpdate(reassignTaskUpdate, {
        args: [{ taskId: triage.id, assigneeId: agent2.userId!, actor: supervisor }],
      })
      expect(moved.assigneeId).toBe(agent2.userId)
      const row = await tdb.db
        .selectFrom('tasks')
        .select('assigneeId')
        .where('id', '=', triage.id)
        .executeTakeFirstOrThrow()
      expect(row.assigneeId).toBe(agent2.userId)
      await handle.terminate('test over')
    } finally {
      await tdb.db
        .updateTable('users')
        .set({ onLeave: false })
        .where('id', '=', agent2.userId!)
        .execute()
    }
  })
})

describe('reopening', () => {
  it('reopens a closed case for a supervisor, with a reason, in investigation again', async () => {
    const input = grievanceInput()
    const handle = await open(input)
    const triage = await openTaskOf(handle, 'triage')
    const agent: Actor = { userId: triage.assigneeId, role: 'case_worker' }
    await complete(handle, triage.id, agent, {
      category: 'information_request',
      sensitive: false,
      priority: 'low',
    })
    const investigation = await openTaskOf(handle, 'investigation')
    await complete(handle, investigation.id, agent, {
      findings: 'Informations données sur le calendrier des paiements.',
      proposedResolution: 'information_given',
      changesEligibilityOrPayment: false,
    })
    await handle.result()

    const options = { caseId: input.caseId, taskQueue: worker.taskQueue, reason: 'Nouvel élément.' }
    await expect(reopenCase(client, { ...options, actor: agent })).rejects.toMatchObject({
      code: ErrorCode.NOT_ALLOWED,
    })
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    await reopenCase(client, { ...options, actor: supervisor })
    await expect(reopenCase(client, { ...options, actor: supervisor })).rejects.toMatchObject({
      code: ErrorCode.CASE_NOT_CLOSED,
    })

    const reopened = client.workflow.getHandle(caseWorkflowId(input.caseId))
    const redo = await openTaskOf(reopened, 'investigation')
    expect(redo.id).not.toBe(investigation.id)
    expect(redo.assigneeId).toBe(agent.userId)
    expect(redo.sentBackReason).toBe('Nouvel élément.')
    await settled(reopened, input.caseId)
    const row = await tdb.db
      .selectFrom('cases')
      .select(['status', 'stage', 'closedAt'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ status: 'open', stage: 'investigation', closedAt: null })

    await complete(reopened, redo.id, agent, {
      findings: 'Le nouvel élément ne change pas la réponse.',
      proposedResolution: 'information_given',
      changesEligibilityOrPayment: false,
    })
    expect(await reopened.result()).toMatchObject({ status: 'closed' })
    await expectSlaRecomputable(tdb.db, reopened, input.caseId)
    const types = (await events(input.caseId)).map((e) => e.type)
    expect(types.slice(types.indexOf('case.reopened') - 1)).toEqual([
      'case.closed',
      'case.reopened',
      'task.created',
      'task.completed',
      'case.resolved',
      'case.closed',
    ])
  })
})
