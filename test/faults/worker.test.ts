import type { Client } from '@temporalio/client'
import { afterEach, describe, expect, it } from 'vitest'
import { completeTaskUpdate, grievanceViewQuery } from '../../workflows/messages'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { connectTestClient, eventually, mailbox } from '../helpers/temporal'
import {
  caseWithContact,
  driveToClosure,
  newTaskQueue,
  openCase,
  processEnv,
  Processes,
} from './harness'
import { checkInvariants } from './invariants'
import { TcpProxy } from './tcp-proxy'

/**
 * The worker, a separate process (`npm run worker`), SIGKILLed by its process id at the worst
 * moments: around an activity's database commit, and while SLA timers fall due.
 */
let tdb: TestDatabase | undefined
let client: Client | undefined
let processes: Processes | undefined
let proxy: TcpProxy | undefined

afterEach(async (context) => {
  // A failed test shows what its processes said.
  if (context.task.result?.state === 'fail') console.error(processes?.logs().slice(-8000))
  const crashes = processes?.crashes.slice()
  await processes?.killAll()
  await proxy?.stop()
  await client?.connection.close()
  await tdb?.drop()
  tdb = client = processes = proxy = undefined
  Processes.expectNoCrash(crashes)
})

const count = async (db: TestDatabase['db'], type: string) =>
  Number(
    (
      await db
        .selectFrom('caseEvents')
        .select(({ fn }) => fn.countAll<string>().as('n'))
        .where('type', '=', type)
        .executeTakeFirstOrThrow()
    ).n,
  )

async function setUp(name: string, policies?: Parameters<typeof seedForCases>[1]) {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db, policies)
  client = await connectTestClient()
  const taskQueue = newTaskQueue(name)
  return { tdb, client, taskQueue }
}

async function expectSettled(
  db: TestDatabase['db'],
  c: Client,
  taskQueue: string,
  caseIds: string[],
) {
  // Notifications run on their own: wait until none is pending or being sent.
  await eventually(
    async () => {
      const open = await db
        .selectFrom('notificationOutbox')
        .select('id')
        .where('status', 'in', ['pending', 'sending'])
        .execute()
      return open.length === 0 ? true : undefined
    },
    { timeoutMs: 90_000, what: 'every notification settled' },
  )
  return checkInvariants({ db, client: c, taskQueue, caseIds, mailbox: () => mailbox() })
}

describe('the worker killed', () => {
  it('after an activity committed (before Temporal heard of it): all 10 cases close, exactly 10 rows, 40 notifications each sent once or failed, no violation', async () => {
    const { tdb, client, taskQueue } = await setUp('after-commit')
    processes = new Processes(processEnv({ databaseUrl: tdb.url, taskQueue }))
    const first = await processes.worker()
    const inputs = Array.from({ length: 10 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const closing = Promise.all(handles.map((h) => driveToClosure(h)))
    // The first triage completion committed by the projection activity: kill at once, before
    // the worker reports the activity's result to Temporal.
    await eventually(async () => ((await count(tdb.db, 'task.completed')) > 0 ? true : undefined), {
      timeoutMs: 60_000,
      what: 'a committed completion',
    })
    processes.kill(first)
    await first.exit()
    await processes.worker()
    await closing

    const rows = await tdb.db.selectFrom('cases').select(['id', 'status']).execute()
    expect(rows).toHaveLength(10)
    expect(rows.every((r) => r.status === 'closed')).toBe(true)
    expect(
      await expectSettled(
        tdb.db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
    const outbox = await tdb.db.selectFrom('notificationOutbox').select('status').execute()
    expect(outbox).toHaveLength(40)
    expect(await count(tdb.db, 'task.completed')).toBe(20)
  })

  it('before an activity committed (its PostgreSQL connection held): all 5 cases close, exactly 5 rows, 10 completions, 20 notifications, no violation', async () => {
    const { tdb, client, taskQueue } = await setUp('before-commit')
    const url = new URL(tdb.url)
    proxy = await new TcpProxy({ host: url.hostname, port: Number(url.port) }).start()
    processes = new Processes(processEnv({ databaseUrl: proxy.url(tdb.url), taskQueue }))
    const first = await processes.worker()
    const inputs = Array.from({ length: 5 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const triage = await Promise.all(
      handles.map((h) =>
        eventually(
          async () =>
            (await h.query(grievanceViewQuery).catch(() => undefined))?.tasks.find(
              (t) => t.kind === 'triage',
            ),
          { what: 'a triage task' },
        ),
      ),
    )
    await eventually(
      async () =>
        (await tdb.db.selectFrom('tasks').select('id').execute()).length === 5 ? true : undefined,
      { what: '5 triage tasks projected' },
    )
    // PostgreSQL stops answering the worker: each completion's projection is sent, never committed.
    proxy.silent()
    const pending = handles.map((h, i) =>
      h
        .executeUpdate(completeTaskUpdate, {
          args: [
            {
              taskId: triage[i]!.id,
              actor: { userId: triage[i]!.assigneeId, role: 'case_worker' },
              data: { category: 'wrong_amount', sensitive: false, priority: 'normal' },
            },
          ],
        })
        .catch(() => undefined),
    )
    await eventually(
      async () => {
        const started = await Promise.all(
          handles.map(async (h) => (await h.describe()).raw.pendingActivities?.length ?? 0),
        )
        return started.every((n) => n > 0) ? true : undefined
      },
      { what: '5 projections in flight' },
    )
    processes.kill(first)
    await first.exit()
    proxy.drop()
    expect(await count(tdb.db, 'task.completed'), 'nothing committed by the killed worker').toBe(0)
    proxy.pass()
    await processes.worker()
    await Promise.all(pending)
    await Promise.all(handles.map((h) => driveToClosure(h)))

    expect(await tdb.db.selectFrom('cases').select('id').execute()).toHaveLength(5)
    expect(await count(tdb.db, 'task.completed')).toBe(10)
    expect(
      await expectSettled(
        tdb.db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
    expect(await tdb.db.selectFrom('notificationOutbox').select('id').execute()).toHaveLength(20)
  })

  it('while SLA timers fall due: each of the 5 cases gets exactly 1 reminder and 1 escalation once a worker is back, no violation', async () => {
    const { tdb, client, taskQueue } = await setUp('sla', [
      {
        category: 'wrong_amount',
        targets: { resolve: 4, escalationRepeat: 3600 },
        atRiskRatio: 0.5,
      },
    ])
    processes = new Processes(processEnv({ databaseUrl: tdb.url, taskQueue }))
    const first = await processes.worker()
    const inputs = Array.from({ length: 5 }, () => caseWithContact({ category: 'wrong_amount' }))
    await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    await eventually(
      async () =>
        (await tdb.db.selectFrom('tasks').select('id').execute()).length === 5 ? true : undefined,
      { what: '5 triage tasks projected' },
    )
    processes.kill(first)
    await first.exit()
    // The fault is the outage itself: down while the at-risk (2 s) and breach (4 s) instants pass.
    const downSince = Date.now()
    await eventually(async () => (Date.now() - downSince > 6_000 ? true : undefined), {
      timeoutMs: 15_000,
      what: 'the SLA instants passed',
    })
    await processes.worker()
    await eventually(
      async () => ((await count(tdb.db, 'case.escalated')) >= 5 ? true : undefined),
      { timeoutMs: 60_000, what: 'an escalation per case' },
    )
    // The escalation tasks projected: the cases are at rest before the invariants are checked.
    await eventually(
      async () =>
        (await tdb.db.selectFrom('tasks').select('id').execute()).length === 10 ? true : undefined,
      { what: '5 escalation tasks projected' },
    )
    expect(await count(tdb.db, 'sla.at_risk')).toBe(5)
    expect(await count(tdb.db, 'case.escalated')).toBe(5)
    expect(
      await expectSettled(
        tdb.db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
  })
})
