import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import type { ApplicationFailure } from '@temporalio/common'
import { setTimeout as sleep } from 'node:timers/promises'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import {
  caseWorkflowId,
  ErrorCode,
  extendSlaUpdate,
  grievanceViewQuery,
  pauseSlaUpdate,
  resumeSlaUpdate,
  type OpenCaseInput,
} from '../../workflows/messages'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { actor, grievanceInput, userId } from '../helpers/fixtures'
import { testCipher } from '../helpers/codec'
import { expectSlaRecomputable } from '../helpers/sla'
import { eventually, mailbox, type RunningWorker } from '../helpers/temporal'

/**
 * The SLA clock on the real stack, with a policy in seconds on an always-open calendar: the
 * business-calendar arithmetic itself (weekends, holidays, hours) is tested in calendar.test.ts.
 */
let tdb: TestDatabase
let client: Client
let worker: RunningWorker

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack([
    // At risk after 2 s, breached after 4 s, the next level alerted every 3 s after that.
    { category: 'wrong_amount', targets: { resolve: 4, escalationRepeat: 3 }, atRiskRatio: 0.5 },
    { category: 'data_correction', targets: { resolve: 3 }, atRiskRatio: 0.5 },
  ]))
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

const events = (caseId: string) =>
  tdb.db
    .selectFrom('caseEvents')
    .select(['seq', 'type', 'after', 'occurredAt'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()

async function open(input: OpenCaseInput): Promise<WorkflowHandle> {
  const handle = await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  await eventually(
    async () =>
      (await handle.query(grievanceViewQuery).catch(() => undefined))?.tasks.length
        ? true
        : undefined,
    { what: 'the triage task' },
  )
  return handle
}

describe('the SLA clock of a grievance', () => {
  it('reminds at the at-risk threshold, escalates to the cercle at the breach and to the region at the next', async () => {
    const input = grievanceInput({ category: 'wrong_amount' })
    const handle = await open(input)
    const first = await handle.query(grievanceViewQuery)
    const assignee = first.tasks[0]!.assigneeId!
    const atRiskAt = Date.parse(first.sla.atRiskAt!)
    const dueAt = Date.parse(first.sla.dueAt!)

    const escalated = await eventually(
      async () => {
        const rows = (await events(input.caseId)).filter((e) => e.type === 'case.escalated')
        return rows.length >= 2 ? rows : undefined
      },
      { what: 'two escalations', timeoutMs: 30_000 },
    )
    const all = await events(input.caseId)
    const atRisk = all.find((e) => e.type === 'sla.at_risk')!
    expect(atRisk.occurredAt.getTime()).toBeGreaterThanOrEqual(atRiskAt)
    expect(atRisk.occurredAt.getTime()).toBeLessThan(escalated[0]!.occurredAt.getTime())
    expect(escalated[0]!.occurredAt.getTime()).toBeGreaterThanOrEqual(dueAt)
    // The second level comes one escalation interval (3 s) after the first breach.
    expect(escalated[1]!.occurredAt.getTime()).toBeGreaterThanOrEqual(dueAt + 3_000)
    expect(escalated.map((e) => e.after)).toEqual([
      { escalationLevel: 1, areaCode: 'ML-2-KATI' },
      { escalationLevel: 2, areaCode: 'ML-2' },
    ])

    const state = await eventually(async () => {
      const view = await handle.query(grievanceViewQuery)
      return view.tasks.filter((t) => t.kind === 'escalation').length >= 2 ? view : undefined
    })
    const escalations = state.tasks.filter((t) => t.kind === 'escalation')
    expect(escalations.map((t) => [t.areaCode, t.assigneeId])).toEqual([
      ['ML-2-KATI', await userId(tdb.db, 'superviseur.cercle.kati')],
      ['ML-2', await userId(tdb.db, 'superviseur.region.koulikoro')],
    ])
    expect(state.sla.state).toBe('breached')
    const row = await tdb.db
      .selectFrom('cases')
      .select(['slaState', 'escalationLevel'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row.escalationLevel).toBe(2)

    // The reminder reached the assignee, each escalation its supervisor, each exactly once.
    const reminder = await eventually(async () => {
      const rows = await tdb.db
        .selectFrom('notificationOutbox')
        .select(['template', 'status', 'recipient'])
        .where('caseId', '=', input.caseId)
        .where('template', 'in', ['task_reminder', 'escalation'])
        .where('status', '=', 'sent')
        .orderBy('id')
        .execute()
      return rows.length >= 3 ? rows : undefined
    })
    const assigneeEmail = (
      await tdb.db
        .selectFrom('users')
        .select('email')
        .where('id', '=', assignee)
        .executeTakeFirstOrThrow()
    ).email
    // Recipients are encrypted at rest; the test key opens them.
    expect(reminder.map((r) => [r.template, testCipher.decrypt(r.recipient)])).toEqual([
      ['task_reminder', assigneeEmail],
      ['escalation', 'superviseur.cercle.kati@rsu.localhost'],
      ['escalation', 'superviseur.region.koulikoro@rsu.localhost'],
    ])
    const cercleMail = (await mailbox('superviseur.cercle.kati@rsu.localhost')).filter((m) =>
      m.text.includes(input.reference!),
    )
    expect(cercleMail).toHaveLength(1)
    expect((await expectSlaRecomputable(tdb.db, handle, input.caseId)).state).toBe('breached')
    await handle.terminate('test over')
  })

  it('does not run while paused, keeps the remaining time on resume, and moves with an extension', async () => {
    const input = grievanceInput({ category: 'data_correction' })
    const handle = await open(input)
    const agent = await actor(tdb.db, 'agent.kati.1', 'case_worker')
    const paused = await handle.executeUpdate(pauseSlaUpdate, {
      args: [{ reason: 'waiting_complainant', actor: agent }],
    })
    expect(paused).toMatchObject({ state: 'paused', paused: true, dueAt: null })
    const remainingAtPause = paused.remainingMs
    expect(remainingAtPause).toBeGreaterThan(1_500)

    // The behaviour under test is the passing of time: more than the whole 3 s target elapses
    // while paused, and nothing may happen.
    await sleep(3_500)
    const quiet = (await events(input.caseId)).map((e) => e.type)
    expect(quiet).not.toContain('sla.at_risk')
    expect(quiet).not.toContain('case.escalated')
    expect((await handle.query(grievanceViewQuery)).sla.state).toBe('paused')

    const before = Date.now()
    const resumed = await handle.executeUpdate(resumeSlaUpdate, { args: [{ actor: agent }] })
    // The 3.5 s spent paused did not count: what was left at the pause is left now (less the
    // few milliseconds since the resume was recorded).
    expect(resumed.remainingMs).toBeLessThanOrEqual(remainingAtPause)
    expect(resumed.remainingMs).toBeGreaterThan(remainingAtPause - 1_000)
    expect(Date.parse(resumed.dueAt!)).toBeGreaterThanOrEqual(before + remainingAtPause - 1_000)

    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    const refused = await handle
      .executeUpdate(extendSlaUpdate, {
        args: [{ byMs: 60_000, reason: 'Enquête de terrain', actor: agent }],
      })
      .then(
        () => undefined,
        (e: WorkflowUpdateFailedError) => e.cause as ApplicationFailure,
      )
    expect(refused?.type).toBe(ErrorCode.NOT_ALLOWED)
    const extended = await handle.executeUpdate(extendSlaUpdate, {
      args: [{ byMs: 60_000, reason: 'Enquête de terrain', actor: supervisor }],
    })
    expect(Date.parse(extended.dueAt!) - Date.parse(resumed.dueAt!)).toBe(60_000)
    expect(extended.targetMs).toBe(resumed.targetMs + 60_000)

    const types = (await events(input.caseId)).map((e) => e.type)
    expect(types.filter((t) => t.startsWith('sla.'))).toEqual([
      'sla.paused',
      'sla.resumed',
      'sla.extended',
    ])
    await expectSlaRecomputable(tdb.db, handle, input.caseId)
    await handle.terminate('test over')
  })
})
