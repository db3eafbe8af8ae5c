import type { Client, WorkflowHandle } from '@temporalio/client'
import nodemailer from 'nodemailer'
import { afterEach, describe, expect, it } from 'vitest'
import { deliverDueNotifications } from '../../activities/notifications/deliver'
import { testCipher } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { connectTestClient, eventually } from '../helpers/temporal'
import {
  caseWithContact,
  completeTask,
  driveToClosure,
  newTaskQueue,
  openCase,
  processEnv,
  Processes,
} from './harness'
import { checkInvariants } from './invariants'
import { FaultySmtp } from './smtp-server'

/**
 * The mail server down, answering temporary errors, answering permanent errors: a case never
 * waits for mail, no email is sent twice, and none is lost (sent later, or recorded as failed).
 */
let tdb: TestDatabase | undefined
let client: Client | undefined
let processes: Processes | undefined
let smtp: FaultySmtp | undefined

afterEach(async (context) => {
  // A failed test shows what its processes said.
  if (context.task.result?.state === 'fail') console.error(processes?.logs().slice(-8000))
  const crashes = processes?.crashes.slice()
  await processes?.killAll()
  await smtp?.down()
  await client?.connection.close()
  await tdb?.drop()
  tdb = client = processes = smtp = undefined
  Processes.expectNoCrash(crashes)
})

async function setUp(name: string) {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
  smtp = await new FaultySmtp().up()
  const taskQueue = newTaskQueue(name)
  processes = new Processes(processEnv({ databaseUrl: tdb.url, taskQueue, smtpUrl: smtp.url }))
  await processes.worker()
  return { tdb, client, smtp, taskQueue }
}

/** Triage and investigation; the case is closed in the read model after its appeal window. */
async function closeInReadModel(db: TestDatabase['db'], handle: WorkflowHandle, caseId: string) {
  await completeTask(handle, 'triage', {
    category: 'wrong_amount',
    sensitive: false,
    priority: 'normal',
  })
  await completeTask(handle, 'investigation', {
    findings: 'Le montant versé correspond au barème du ménage.',
    proposedResolution: 'rejected',
    changesEligibilityOrPayment: false,
  })
  await eventually(
    async () =>
      (await db.selectFrom('cases').select('status').where('id', '=', caseId).executeTakeFirst())
        ?.status === 'closed'
        ? true
        : undefined,
    { timeoutMs: 60_000, what: `case ${caseId} closed` },
  )
}

const outbox = (db: TestDatabase['db']) =>
  db.selectFrom('notificationOutbox').select(['status', 'attempts', 'lastError']).execute()

describe('the SMTP server', () => {
  it('answering permanent errors (550): all 5 cases complete, all 20 notifications recorded failed after 1 attempt, 0 emails sent, no violation', async () => {
    const { tdb, client, smtp, taskQueue } = await setUp('smtp-permanent')
    smtp.mode = 'permanent'
    const inputs = Array.from({ length: 5 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    await Promise.all(handles.map((h) => driveToClosure(h)))

    // Notifications go out beside the case (the worker's dispatcher), not before it closes.
    const rows = await eventually(
      async () => {
        const all = await outbox(tdb.db)
        return all.length === 20 && all.every((r) => r.status !== 'pending') ? all : undefined
      },
      { what: 'every notification attempted' },
    )
    expect(rows).toHaveLength(20)
    for (const row of rows) {
      expect(row).toMatchObject({ status: 'failed', attempts: 1 })
      expect(row.lastError).toContain('550')
    }
    expect(smtp.received).toHaveLength(0)
    expect(
      await checkInvariants({
        db: tdb.db,
        client,
        taskQueue,
        caseIds: inputs.map((i) => i.caseId),
        mailbox: async () => smtp.received,
      }),
    ).toEqual([])
  })

  for (const fault of ['temporary', 'down'] as const) {
    const what = fault === 'down' ? 'down (connection refused)' : 'answering temporary errors (451)'
    it(`${what}: all 5 cases close meanwhile, 20 notifications wait after 1 attempt, and once it is back one sweep sends each exactly once (20 emails), no violation`, async () => {
      const { tdb, client, smtp, taskQueue } = await setUp(`smtp-${fault}`)
      if (fault === 'down') await smtp.down()
      else smtp.mode = 'temporary'
      const inputs = Array.from({ length: 5 }, () => caseWithContact())
      const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
      // A failing mail server never holds a case up.
      await Promise.all(handles.map((h, i) => closeInReadModel(tdb.db, h, inputs[i]!.caseId)))
      const waiting = await eventually(
        async () => {
          const rows = await outbox(tdb.db)
          return rows.length === 20 && rows.every((r) => r.attempts === 1) ? rows : undefined
        },
        { what: '20 notifications attempted once' },
      )
      for (const row of waiting) expect(row.status).toBe('pending')
      expect(smtp.received).toHaveLength(0)

      if (fault === 'down') await smtp.up()
      smtp.mode = 'accept'
      // The worker's own sweep comes back when the backoff (minutes) is over: run it now, as
      // if that time had passed.
      const transport = nodemailer.createTransport(smtp.url)
      const later = new Date(Date.now() + 60 * 60_000)
      const swept = await deliverDueNotifications({
        db: tdb.db,
        transport,
        from: 'RSU Casework <no-reply@rsu.localhost>',
        cipher: testCipher,
        now: () => later,
      })
      transport.close()
      expect(swept).toEqual({ sent: 20, failed: 0 })
      expect(smtp.received).toHaveLength(20)
      expect((await outbox(tdb.db)).every((r) => r.status === 'sent')).toBe(true)
      expect(
        await checkInvariants({
          db: tdb.db,
          client,
          taskQueue,
          caseIds: inputs.map((i) => i.caseId),
          mailbox: async () => smtp.received,
        }),
      ).toEqual([])
    })
  }
})
