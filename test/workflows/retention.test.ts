import { randomUUID } from 'node:crypto'
import { WorkflowNotFoundError, type Client, type WorkflowHandle } from '@temporalio/client'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { ANONYMISED } from '../../activities/retention/anonymise'
import { ensureRetentionSchedule } from '../../activities/retention/schedule'
import { reopenCase, CommandRefused } from '../../api/commands/reopen'
import {
  addNoteUpdate,
  caseWorkflowId,
  closeCaseUpdate,
  ErrorCode,
  type OpenCaseInput,
} from '../../workflows/messages'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { actor, grievanceInput } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
// The default of migration 2026_11_29_001200, as the database holds it after the migrations.
const FIVE_YEARS = 5 * 365 * 24 * 3600

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

async function closedCase(input: OpenCaseInput): Promise<WorkflowHandle> {
  const handle = await client.workflow.start('grievanceWorkflow', {
    workflowId: caseWorkflowId(input.caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  const agent = await actor(tdb.db, 'agent.kati.1', 'case_worker')
  await eventually(
    () =>
      handle
        .executeUpdate(addNoteUpdate, {
          args: [{ actor: agent, text: `Note privée ${input.caseId}: appeler le soir.` }],
        })
        .catch(() => undefined),
    { what: 'a note accepted' },
  )
  await handle.executeUpdate(closeCaseUpdate, {
    args: [{ reason: 'resolved', actor: { userId: null, role: 'supervisor' } }],
  })
  await handle.result()
  return handle
}

const contactOf = (caseId: string) =>
  tdb.db
    .selectFrom('complainantContacts')
    .selectAll()
    .where('caseId', '=', caseId)
    .executeTakeFirst()

const gone = async (handle: WorkflowHandle) =>
  handle.describe().then(
    () => undefined,
    (error: unknown) => (error instanceof WorkflowNotFoundError ? true : undefined),
  )

describe('retention: closed cases are anonymised after the configured period', () => {
  it('on a database built by the migrations alone, anonymises the 2 expired closed cases (contacts, recipients, history), audits each once, and leaves the recent and the open case alone', async () => {
    // The retention period is the migrations' own default (5 years): nothing seeds it here.
    const contact = (n: string) => ({
      email: `retention-${n}-${randomUUID().slice(0, 6)}@exemple.ml`,
      phone: '+22370000000',
      locale: 'fr' as const,
    })
    const expired = [
      grievanceInput({ contact: contact('a') }),
      grievanceInput({ contact: contact('b') }),
    ]
    const recent = grievanceInput({ contact: contact('c') })
    const stillOpen = grievanceInput({ contact: contact('d') })
    const expiredHandles = await Promise.all(expired.map(closedCase))
    const recentHandle = await closedCase(recent)
    await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(stillOpen.caseId),
      taskQueue: worker.taskQueue,
      args: [stillOpen],
    })
    await eventually(() => contactOf(stillOpen.caseId), { what: 'the open case projected' })
    // Two cases closed six years ago: the period (five years) has run out for them only.
    await tdb.db
      .updateTable('cases')
      .set({ closedAt: sql<Date>`now() - interval '6 years'` })
      .where(
        'id',
        'in',
        expired.map((c) => c.caseId),
      )
      .execute()
    const outboxBefore = await tdb.db
      .selectFrom('notificationOutbox')
      .select(['caseId', 'recipient'])
      .execute()
    expect(outboxBefore.filter((r) => r.caseId === expired[0]!.caseId)).not.toHaveLength(0)

    // The schedule, as a worker creates it at start: idempotent, then it fires by itself.
    const options = { taskQueue: worker.taskQueue, every: '2 seconds', input: { batchSize: 1 } }
    const first = await ensureRetentionSchedule(client, options)
    const second = await ensureRetentionSchedule(client, options)
    expect([first.created, second.created]).toEqual([true, false])
    try {
      await eventually(
        async () => {
          const rows = await tdb.db
            .selectFrom('cases')
            .select('id')
            .where('anonymisedAt', 'is not', null)
            .execute()
          return rows.length >= 2 ? rows : undefined
        },
        { timeoutMs: 60_000, what: 'two cases anonymised by the scheduled workflow' },
      )
    } finally {
      await client.schedule.getHandle(first.scheduleId).delete()
    }
    // A run again finds nothing to do: nothing is anonymised or audited twice.
    const again = await client.workflow.execute('retentionWorkflow', {
      workflowId: `retention-again-${randomUUID()}`,
      taskQueue: worker.taskQueue,
      args: [{ batchSize: 1 }],
    })
    expect(again).toEqual({ anonymised: 0 })

    const anonymised = await tdb.db
      .selectFrom('cases')
      .select(['id', 'status', 'anonymisedAt'])
      .where('anonymisedAt', 'is not', null)
      .execute()
    expect(anonymised.map((c) => c.id).sort()).toEqual(expired.map((c) => c.caseId).sort())

    for (const [index, kase] of expired.entries()) {
      expect(await contactOf(kase.caseId), 'contact deleted').toBeUndefined()
      const outbox = await tdb.db
        .selectFrom('notificationOutbox')
        .select(['recipient', 'lastError'])
        .where('caseId', '=', kase.caseId)
        .execute()
      expect(outbox.every((r) => r.recipient === ANONYMISED)).toBe(true)
      const audit = await tdb.db
        .selectFrom('caseEvents')
        .select(['seq', 'type', 'actorRole', 'data'])
        .where('caseId', '=', kase.caseId)
        .orderBy('seq')
        .execute()
      expect(audit.filter((e) => e.type === 'case.anonymised')).toEqual([
        {
          seq: audit.length,
          type: 'case.anonymised',
          actorRole: 'system',
          data: {
            retentionSeconds: FIVE_YEARS,
            removed: { contacts: 1, recipients: outbox.length, workflowRuns: 1 },
          },
        },
      ])
      // The history (narrative, notes) is deleted with the workflow run (the server deletes
      // asynchronously: about 30 s on the dev server).
      await eventually(() => gone(expiredHandles[index]!), {
        timeoutMs: 120_000,
        what: 'the history deleted',
      })
      // An anonymised case cannot be reopened: there is nothing left to reopen.
      const refused = await reopenCase(client, {
        caseId: kase.caseId,
        taskQueue: worker.taskQueue,
        actor: await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor'),
        reason: 'Nouvel élément apporté par le plaignant',
      }).catch((error: unknown) => error)
      expect(refused).toBeInstanceOf(CommandRefused)
      expect((refused as CommandRefused).code).toBe(ErrorCode.CASE_NOT_FOUND)
    }
    for (const kept of [recent, stillOpen]) {
      expect(await contactOf(kept.caseId), 'contact kept').toBeDefined()
      const events = await tdb.db
        .selectFrom('caseEvents')
        .select('type')
        .where('caseId', '=', kept.caseId)
        .where('type', '=', 'case.anonymised')
        .execute()
      expect(events).toEqual([])
    }
    expect((await recentHandle.describe()).status.name).toBe('COMPLETED')
  }, 360_000)

  it('refuses to run on a missing retention setting: nothing is anonymised early', async () => {
    await tdb.db.deleteFrom('appSettings').where('key', '=', 'retention').execute()
    const run = await client.workflow.start('retentionWorkflow', {
      workflowId: `retention-unset-${randomUUID()}`,
      taskQueue: worker.taskQueue,
      args: [{}],
    })
    // The activity fails (and is retried) instead of picking a period itself.
    const failure = await eventually(async () => {
      const pending = (await run.describe()).raw.pendingActivities?.[0]
      return pending?.lastFailure ? pending.lastFailure : undefined
    })
    expect(failure).toBeDefined()
    await run.terminate('test over')
    const count = await tdb.db
      .selectFrom('caseEvents')
      .select(({ fn }) => fn.countAll<string>().as('n'))
      .where('type', '=', 'case.anonymised')
      .executeTakeFirstOrThrow()
    expect(Number(count.n)).toBe(2)
  })
})
