import { WorkflowNotFoundError, WorkflowUpdateFailedError, type Client } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createActivities } from '../../activities'
import {
  caseSnapshotQuery,
  caseWorkflowId,
  closeCaseUpdate,
  ErrorCode,
} from '../../workflows/messages'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { grievanceInput, seedGeography } from '../helpers/fixtures'
import {
  connectTestClient,
  eventually,
  startTestWorker,
  type RunningWorker,
} from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedGeography(tdb.db)
  client = await connectTestClient()
  worker = await startTestWorker(tdb.db)
})
afterAll(async () => {
  await worker?.stop()
  await client?.connection.close()
  await tdb?.drop()
})

const events = (caseId: string) =>
  tdb.db
    .selectFrom('caseEvents')
    .select(['seq', 'type', 'actorRole', 'after'])
    .where('caseId', '=', caseId)
    .orderBy('seq')
    .execute()

describe('a grievance driven through worker, activity and PostgreSQL', () => {
  it('is projected when opened, and closed by an Update whose result the read model shows', async () => {
    const input = grievanceInput()
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })

    const opened = await eventually(
      () =>
        tdb.db.selectFrom('cases').selectAll().where('id', '=', input.caseId).executeTakeFirst(),
      { what: 'the case row' },
    )
    expect(opened).toMatchObject({
      workflowId: `case-${input.caseId}`,
      kind: 'grievance',
      status: 'open',
      stage: 'uptake',
      areaCode: 'ML-2-KATI-KATI',
      category: 'payment_not_received',
      lastEventSeq: 1,
    })
    expect(await handle.query(caseSnapshotQuery)).toMatchObject({ status: 'open', seq: 1 })

    const closed = await handle.executeUpdate(closeCaseUpdate, {
      args: [{ reason: 'resolved', actor: { userId: null, role: 'supervisor' } }],
    })
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'resolved', seq: 2 })
    // The Update answers only after the projection is written: the list shows it at once.
    const row = await tdb.db
      .selectFrom('cases')
      .select(['status', 'closedAt', 'lastEventSeq'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row.status).toBe('closed')
    expect(row.closedAt).toBeInstanceOf(Date)
    expect(row.lastEventSeq).toBe(2)
    await handle.result()
    expect(await events(input.caseId)).toEqual([
      {
        seq: 1,
        type: 'case.opened',
        actorRole: 'public',
        after: { status: 'open', stage: 'uptake' },
      },
      {
        seq: 2,
        type: 'case.closed',
        actorRole: 'supervisor',
        after: { status: 'closed', stage: 'closed', closeReason: 'resolved' },
      },
    ])
  })

  it('accepts no command once closed, and writes nothing more', async () => {
    const input = grievanceInput()
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
    await handle.executeUpdate(closeCaseUpdate, {
      args: [{ reason: 'resolved', actor: { userId: null, role: 'supervisor' } }],
    })
    await handle.result()
    await expect(
      handle.executeUpdate(closeCaseUpdate, {
        args: [{ reason: 'withdrawn', actor: { userId: null, role: 'supervisor' } }],
      }),
    ).rejects.toBeInstanceOf(WorkflowNotFoundError)
    expect((await events(input.caseId)).map((e) => e.type)).toEqual(['case.opened', 'case.closed'])
  })

  it('refuses a malformed reason code before it reaches the history', async () => {
    const input = grievanceInput()
    const handle = await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(input.caseId),
      taskQueue: worker.taskQueue,
      args: [input],
    })
    const refused = await handle
      .executeUpdate(closeCaseUpdate, {
        args: [{ reason: 'Resolved!', actor: { userId: null, role: 'supervisor' } }],
      })
      .catch((error: unknown) => error)
    expect(refused).toBeInstanceOf(WorkflowUpdateFailedError)
    const cause = (refused as WorkflowUpdateFailedError).cause
    expect(cause).toBeInstanceOf(ApplicationFailure)
    expect((cause as ApplicationFailure).type).toBe(ErrorCode.INVALID_COMMAND)
    expect(await handle.query(caseSnapshotQuery)).toMatchObject({ status: 'open', seq: 1 })
    await handle.terminate('test over')
  })
})

describe('projectCaseEvent', () => {
  it('is idempotent: a retried activity writes one event and never rolls the case back', async () => {
    await seedGeography(tdb.db)
    const { projectCaseEvent } = createActivities({ db: tdb.db })
    const input = grievanceInput()
    const snapshot = {
      ...input,
      status: 'open' as const,
      stage: 'uptake',
      openedAt: new Date().toISOString(),
      seq: 1,
    }
    const opened = {
      workflowId: caseWorkflowId(input.caseId),
      caseId: input.caseId,
      seq: 1,
      type: 'case.opened' as const,
      actor: input.openedBy,
      occurredAt: snapshot.openedAt,
      before: null,
      after: { status: 'open' as const },
      snapshot,
    }
    const closed = {
      ...opened,
      seq: 2,
      type: 'case.closed' as const,
      after: { status: 'closed' as const },
      snapshot: { ...snapshot, status: 'closed' as const, stage: 'closed', seq: 2 },
    }
    await projectCaseEvent(opened)
    await projectCaseEvent(closed)
    // A late retry of the first event arrives after the second.
    await projectCaseEvent(opened)
    await projectCaseEvent(closed)
    expect((await events(input.caseId)).map((e) => e.seq)).toEqual([1, 2])
    const row = await tdb.db
      .selectFrom('cases')
      .select(['status', 'lastEventSeq'])
      .where('id', '=', input.caseId)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ status: 'closed', lastEventSeq: 2 })
  })
})
