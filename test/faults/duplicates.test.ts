import type { Client } from '@temporalio/client'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId } from '../../workflows/messages'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases, userId } from '../helpers/fixtures'
import { connectTestClient, eventually, mailbox } from '../helpers/temporal'
import { driveToClosure, fetchWithin, newTaskQueue, processEnv, Processes } from './harness'
import { checkInvariants } from './invariants'

/**
 * Duplicate submissions and concurrent task completions under load, through the API process:
 * a client retrying (same Idempotency-Key) never makes a second case, and of people completing
 * one task at once exactly one wins.
 */
let tdb: TestDatabase
let client: Client
let processes: Processes
let api: string
let token: string
const taskQueue = newTaskQueue('duplicates')

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
  processes = new Processes(processEnv({ databaseUrl: tdb.url, taskQueue }))
  await processes.worker()
  api = (await processes.api()).url
  token = (
    await createApiToken(tdb.db, { name: 'hotline', userId: await userId(tdb.db, 'agent.kati.1') })
  ).token
})
// A process that exited by itself fails the test during which it did.
afterEach(() => Processes.expectNoCrash(processes?.crashes.splice(0)))

afterAll(async () => {
  await processes?.killAll()
  await client?.connection.close()
  await tdb?.drop()
})

const post = (path: string, body: unknown, key?: string, bearer = token) =>
  fetchWithin(`${api}${path}`, {
    method: 'POST',
    headers: {
      authorization: `Bearer ${bearer}`,
      'content-type': 'application/json',
      ...(key ? { 'idempotency-key': key } : {}),
    },
    body: JSON.stringify(body),
    timeoutMs: 60_000,
  })

describe('duplicates under load', () => {
  it('10 intakes each sent 5 times at once with its key, then 5 people completing each triage task at once: exactly 10 cases, 10 triage completions (1 winner per task, 40 answered 409), 40 notifications, no violation', async () => {
    const intakes = Array.from({ length: 10 }, (_, i) => ({
      key: `hotline-call-${i}`,
      body: {
        communeCode: 'ML-2-KATI-KATI',
        channel: 'hotline',
        category: 'payment_not_received',
        narrative: `Appel ${i} au numéro vert : paiement non reçu.`,
        contact: { email: `doublon-${i}-${taskQueue}@exemple.ml` },
      },
    }))
    const answers = await Promise.all(
      intakes.flatMap(({ key, body }) =>
        Array.from({ length: 5 }, () => post('/api/cases', body, key)),
      ),
    )
    const bodies = await Promise.all(
      answers.map(async (r) => ({
        status: r.status,
        body: (await r.json()) as { caseId?: string },
      })),
    )
    expect(bodies.map((b) => b.status)).toEqual(bodies.map(() => 201))
    const caseIds = [...new Set(bodies.map((b) => b.body.caseId))]
    expect(caseIds).toHaveLength(10)
    // Projected once each (a start returns before the projection).
    await eventually(async () =>
      (await tdb.db.selectFrom('cases').select('id').execute()).length >= 10 ? true : undefined,
    )
    expect(await tdb.db.selectFrom('cases').select('id').execute()).toHaveLength(10)

    const tasks = await eventually(
      async () => {
        const rows = await tdb.db
          .selectFrom('tasks')
          .select(['id', 'assigneeId'])
          .where('kind', '=', 'triage')
          .execute()
        return rows.length === 10 ? rows : undefined
      },
      { what: '10 triage tasks' },
    )
    // Each task's assignee, signed in on 5 devices at once.
    const tokens = new Map<string, string>()
    for (const assignee of new Set(tasks.map((t) => t.assigneeId!))) {
      tokens.set(
        assignee,
        (await createApiToken(tdb.db, { name: 'device', userId: assignee })).token,
      )
    }
    const completions = await Promise.all(
      tasks.flatMap((t) =>
        Array.from({ length: 5 }, () =>
          post(
            `/api/tasks/${t.id}/complete`,
            { data: { category: 'wrong_amount', sensitive: false, priority: 'normal' } },
            undefined,
            tokens.get(t.assigneeId!),
          ).then(async (r) => ({ task: t.id, status: r.status, body: await r.text() })),
        ),
      ),
    )
    for (const t of tasks) {
      const statuses = completions.filter((c) => c.task === t.id).map((c) => c.status)
      expect(
        statuses.filter((s) => s === 200),
        JSON.stringify(completions),
      ).toHaveLength(1)
      expect(statuses.filter((s) => s === 409)).toHaveLength(4)
    }
    await Promise.all(
      caseIds.map((id) => driveToClosure(client.workflow.getHandle(caseWorkflowId(id!)))),
    )
    await eventually(
      async () =>
        (
          await tdb.db
            .selectFrom('notificationOutbox')
            .select('id')
            .where('status', 'in', ['pending', 'sending'])
            .execute()
        ).length === 0
          ? true
          : undefined,
      { timeoutMs: 90_000, what: 'every notification settled' },
    )
    expect(await tdb.db.selectFrom('notificationOutbox').select('id').execute()).toHaveLength(40)
    expect(
      await checkInvariants({
        db: tdb.db,
        client,
        taskQueue,
        caseIds: caseIds as string[],
        mailbox: () => mailbox(),
      }),
    ).toEqual([])
  })
})
