import { randomUUID } from 'node:crypto'
import { WorkflowUpdateFailedError, type Client, type WorkflowHandle } from '@temporalio/client'
import { ApplicationFailure } from '@temporalio/common'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { setPartnerWebhook, webhookSignature } from '../../activities/referrals/activities'
import { caseWorkflowId, completeTaskUpdate, ErrorCode, type Actor } from '../../workflows/messages'
import {
  acceptReferralUpdate,
  declineReferralUpdate,
  referralViewQuery,
  reportReferralUpdate,
  type OpenReferralInput,
  type PartnerActor,
} from '../../workflows/kinds/referral/messages'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import { testCipher } from '../helpers/codec'
import type { TestDatabase } from '../helpers/db'
import { actor, userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker

// The partner's server, at the network edge: only third-party HTTP is mocked.
const WEBHOOK_URL = 'https://partner.example.org/rsu/webhooks'
const SECRET = 'croix-rouge-shared-secret-2026'
const received: { status: number; headers: Record<string, string>; body: string }[] = []
let failNext = 0
const partnerServer = setupServer(
  http.post(WEBHOOK_URL, async ({ request }) => {
    const body = await request.text()
    const status = failNext > 0 ? 500 : 200
    if (failNext > 0) failNext -= 1
    received.push({ status, headers: Object.fromEntries(request.headers.entries()), body })
    return status === 200
      ? HttpResponse.json({ received: true })
      : HttpResponse.json({ error: 'temporarily unavailable' }, { status })
  }),
)

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  partnerServer.listen({ onUnhandledRequest: 'bypass' })
  await tdb.db
    .insertInto('slaPolicies')
    .values({
      caseKind: 'referral',
      category: null,
      priority: null,
      targets: { partnerResponse: 3600, delivery: 3600, followUp: 3600 },
    })
    .execute()
})
afterAll(async () => {
  partnerServer.close()
  await stopCaseStack({ tdb, client, worker })
})

async function setLegs(targets: Record<string, number>) {
  await tdb.db
    .updateTable('slaPolicies')
    .set({ targets: { partnerResponse: 3600, delivery: 3600, followUp: 3600, ...targets } })
    .where('caseKind', '=', 'referral')
    .execute()
}

async function partner(code: string): Promise<PartnerActor> {
  return { userId: await userId(tdb.db, `partenaire.${code}`), role: 'partner', partnerCode: code }
}

async function openReferral(overrides: Partial<OpenReferralInput> = {}) {
  const caseId = `RF-${randomUUID().slice(0, 8)}`
  const input: OpenReferralInput = {
    caseId,
    reference: `RSU-${caseId}`,
    sourceCaseId: null,
    serviceCode: 'cash_transfer',
    areaCode: 'ML-2-KATI-KATI',
    householdId: null,
    sensitive: false,
    priority: 'normal',
    openedBy: await actor(tdb.db, 'agent.kati.1', 'case_worker'),
    consent: {
      given: true,
      method: 'verbal',
      recordedBy: await userId(tdb.db, 'agent.kati.1'),
      recordedAt: new Date().toISOString(),
    },
    ...overrides,
  }
  const handle = await client.workflow.start('referralWorkflow', {
    workflowId: caseWorkflowId(caseId),
    taskQueue: worker.taskQueue,
    args: [input],
  })
  return { caseId, handle }
}

const row = (caseId: string) =>
  tdb.db
    .selectFrom('referrals')
    .innerJoin('cases', 'cases.id', 'referrals.caseId')
    .select([
      'referrals.partnerCode',
      'referrals.partnerStatus',
      'referrals.partnersTried',
      'cases.stage',
      'cases.status',
      'cases.slaState',
    ])
    .where('referrals.caseId', '=', caseId)
    .executeTakeFirst()

/** Waits until the referral's row satisfies `ok`. */
const rowWhere = (
  caseId: string,
  ok: (r: NonNullable<Awaited<ReturnType<typeof row>>>) => boolean,
  what: string,
) =>
  eventually(
    async () => {
      const r = await row(caseId)
      return r && ok(r) ? r : undefined
    },
    { what },
  )

async function refusal(promise: Promise<unknown>): Promise<ApplicationFailure> {
  const error = await promise.then(
    () => undefined,
    (e: unknown) => e,
  )
  expect(error).toBeInstanceOf(WorkflowUpdateFailedError)
  const cause = (error as WorkflowUpdateFailedError).cause
  expect(cause).toBeInstanceOf(ApplicationFailure)
  return cause as ApplicationFailure
}

async function openTask(handle: WorkflowHandle, kind: string) {
  return eventually(
    async () =>
      (await handle.query(referralViewQuery).catch(() => undefined))?.tasks.find(
        (t) => t.kind === kind && (t.status === 'open' || t.status === 'claimed'),
      ),
    { what: `an open ${kind} task` },
  )
}

const complete = (handle: WorkflowHandle, taskId: string, by: Actor, data: unknown) =>
  handle.executeUpdate(completeTaskUpdate, { args: [{ taskId, actor: by, data }] })

describe('referral', () => {
  it('a decline goes to the next partner; the second accepts, delivers; the follow-up closes it; the first partner’s webhook is signed and delivered once despite a 500', async () => {
    await setLegs({})
    await setPartnerWebhook(tdb.db, testCipher, 'croix-rouge', { url: WEBHOOK_URL, secret: SECRET })
    failNext = 1
    received.length = 0
    const { caseId, handle } = await openReferral()

    // Coverage order for cash transfers in Kati: Croix-Rouge, then PAM (same priority, by code).
    await rowWhere(caseId, (r) => r.partnerCode === 'croix-rouge', 'routed to croix-rouge')

    // The webhook: one 500, then one 200, then nothing more; same key, valid signatures.
    await eventually(async () => (received.some((r) => r.status === 200) ? true : undefined), {
      what: 'webhook delivered',
    })
    const redCross = await partner('croix-rouge')
    const pam = await partner('pam')

    // PAM cannot answer a referral routed to the Red Cross.
    expect(
      (await refusal(handle.executeUpdate(acceptReferralUpdate, { args: [{ actor: pam }] }))).type,
    ).toBe(ErrorCode.REFERRAL_NOT_ROUTED_TO_YOU)
    // A decline needs a known reason.
    expect(
      (
        await refusal(
          handle.executeUpdate(declineReferralUpdate, {
            args: [{ actor: redCross, reason: 'because' as never }],
          }),
        )
      ).type,
    ).toBe(ErrorCode.INVALID_COMMAND)

    await handle.executeUpdate(declineReferralUpdate, {
      args: [{ actor: redCross, reason: 'no_capacity' }],
    })
    const second = await rowWhere(caseId, (r) => r.partnerCode === 'pam', 'routed to pam')
    expect(second.partnersTried).toEqual(['croix-rouge', 'pam'])
    expect(second.partnerStatus).toBe('awaiting_response')

    // The Red Cross has lost it: its accept is refused now.
    expect(
      (await refusal(handle.executeUpdate(acceptReferralUpdate, { args: [{ actor: redCross }] })))
        .type,
    ).toBe(ErrorCode.REFERRAL_NOT_ROUTED_TO_YOU)
    // Reporting before accepting is the wrong stage.
    expect(
      (
        await refusal(
          handle.executeUpdate(reportReferralUpdate, {
            args: [{ actor: pam, outcome: 'delivered' }],
          }),
        )
      ).type,
    ).toBe(ErrorCode.WRONG_STAGE)

    await handle.executeUpdate(acceptReferralUpdate, { args: [{ actor: pam }] })
    expect((await row(caseId))?.partnerStatus).toBe('accepted')
    await handle.executeUpdate(reportReferralUpdate, {
      args: [{ actor: pam, outcome: 'delivered', note: 'Premier transfert versé' }],
    })
    const followUp = await openTask(handle, 'follow_up')
    const worker1 = followUp.assigneeId!
    expect(['agent.kati.1', 'agent.kati.2']).toContain(
      (
        await tdb.db
          .selectFrom('users')
          .select('username')
          .where('id', '=', worker1)
          .executeTakeFirstOrThrow()
      ).username,
    )
    await complete(
      handle,
      followUp.id,
      { userId: worker1, role: 'case_worker' },
      {
        outcome: 'needs_met',
      },
    )
    await rowWhere(caseId, (r) => r.status === 'closed', 'closed')
    await handle.result()

    const events = await tdb.db
      .selectFrom('caseEvents')
      .select(['type', 'actorRole'])
      .where('caseId', '=', caseId)
      .orderBy('seq')
      .execute()
    expect(events.map((e) => e.type)).toEqual([
      'case.opened',
      'referral.routed',
      'referral.declined',
      'referral.routed',
      'referral.accepted',
      'referral.reported',
      'task.created',
      'task.completed',
      'case.closed',
    ])
    expect(events.find((e) => e.type === 'referral.declined')?.actorRole).toBe('partner')
    // The partner's note stays in the encrypted history, never in PostgreSQL.
    expect(
      JSON.stringify(
        await tdb.db.selectFrom('caseEvents').selectAll().where('caseId', '=', caseId).execute(),
      ),
    ).not.toContain('Premier transfert')

    // Exactly one successful delivery, after one 500, with the same key and a valid signature.
    expect(received.map((r) => r.status)).toEqual([500, 200])
    const keys = new Set(received.map((r) => r.headers['idempotency-key']))
    expect(keys.size).toBe(1)
    for (const r of received) {
      const timestamp = r.headers['x-rsu-timestamp']!
      expect(r.headers['x-rsu-signature']).toBe(`v1=${webhookSignature(SECRET, timestamp, r.body)}`)
      expect(r.headers['x-rsu-signature']).not.toBe(
        `v1=${webhookSignature('another-secret', timestamp, r.body)}`,
      )
    }
    const payload = JSON.parse(received[1]!.body) as { type: string; data: Record<string, unknown> }
    expect(payload.type).toBe('referral.routed')
    expect(Object.keys(payload.data).sort()).toEqual([
      'areaCode',
      'reference',
      'referralId',
      'respondBy',
      'serviceCode',
    ])
    const delivery = await tdb.db
      .selectFrom('webhookDeliveries')
      .selectAll()
      .where('caseId', '=', caseId)
      .execute()
    expect(delivery).toHaveLength(1)
    expect(delivery[0]).toMatchObject({ status: 'delivered', attempts: 2, lastStatus: 200 })
    // The secret is stored encrypted.
    const stored = await tdb.db
      .selectFrom('partners')
      .select('webhookSecret')
      .where('code', '=', 'croix-rouge')
      .executeTakeFirstOrThrow()
    expect(stored.webhookSecret).toMatch(/^enc:v1:/)
    await setPartnerWebhook(tdb.db, testCipher, 'croix-rouge', null)
  })

  it('a partner letting its answer lapse is passed over; with no partner left a supervisor decides', async () => {
    await setLegs({ partnerResponse: 2 })
    const { caseId, handle } = await openReferral()
    await rowWhere(caseId, (r) => r.partnerCode === 'croix-rouge', 'routed to croix-rouge')
    // Nobody answers: after 2 s the next partner, after 2 more the supervisor of the cercle.
    await rowWhere(caseId, (r) => r.partnerCode === 'pam', 'lapsed to pam')
    const task = await openTask(handle, 'supervision')
    expect((await row(caseId))?.stage).toBe('supervision')
    expect((await row(caseId))?.partnerStatus).toBe('unrouted')
    const supervisor = await actor(tdb.db, 'superviseur.cercle.kati', 'supervisor')
    expect(task.assigneeId).toBe(supervisor.userId)
    const lapsed = await tdb.db
      .selectFrom('caseEvents')
      .select(['type', 'after'])
      .where('caseId', '=', caseId)
      .where('type', '=', 'referral.lapsed')
      .execute()
    expect(lapsed.map((e) => (e.after as { partnerCode: string }).partnerCode)).toEqual([
      'croix-rouge',
      'pam',
    ])
    await complete(handle, task.id, supervisor, { action: 'close' })
    await rowWhere(caseId, (r) => r.status === 'closed', 'closed unserved')
    expect((await handle.result()).closeReason).toBe('unserved')
  })

  it('a consent override is its own audited event', async () => {
    await setLegs({})
    const manager = await userId(tdb.db, 'superviseur.region.koulikoro')
    const { caseId, handle } = await openReferral({
      sensitive: true,
      serviceCode: 'gbv_services',
      consent: {
        given: false,
        method: null,
        recordedBy: manager,
        recordedAt: new Date().toISOString(),
        overriddenBy: manager,
        overrideReason: 'danger immédiat',
      },
    })
    await rowWhere(caseId, (r) => r.partnerCode === 'one-stop-center', 'routed')
    const override = await tdb.db
      .selectFrom('caseEvents')
      .select(['actorId', 'after'])
      .where('caseId', '=', caseId)
      .where('type', '=', 'referral.consent_overridden')
      .executeTakeFirstOrThrow()
    expect(override.actorId).toBe(manager)
    expect(JSON.stringify(override.after)).not.toContain('danger')
    await handle.terminate('test over')
  })
})
