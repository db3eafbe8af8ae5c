import { createHmac } from 'node:crypto'
import type { Transaction } from 'kysely'
import { ApplicationFailure } from '@temporalio/common'
import type { CaseEvent } from '../../workflows/messages'
import type {
  Consent,
  PartnerStatus,
  ReferralContext,
} from '../../workflows/kinds/referral/messages'
import { opened, sealed, type FieldCipher } from '../crypto/field-cipher'
import type { Db } from '../db/db'
import { loadHistoryLimit } from '../case-context'
import type { Logger } from '../infra/logger'
import { createProjectionActivities } from '../projection'
import { areaAncestry, loadCalendar, loadPolicy } from './context'
import type { Database } from '../db/schema'
import {
  resolveWebhookTarget,
  STRICT_WEBHOOKS,
  systemResolve,
  WebhookTargetError,
  type Resolve,
  type WebhookPolicy,
} from './webhook-target'

const DAY = 8 * 3600 // one working day, roughly
/** Leg targets in working seconds when no referral policy is set. */
const REFERRAL_DEFAULTS = {
  partnerResponse: 3 * DAY,
  delivery: 20 * DAY,
  followUp: 10 * DAY,
  // The whole referral's clock, and how long after a breach the next level is alerted.
  resolve: 35 * DAY,
  escalationRepeat: 5 * DAY,
}

/** The referral's row beside its case, as the workflow hands it to the projection. */
export interface ReferralRow {
  sourceCaseId: string | null
  serviceCode: string
  partnerCode: string | null
  partnerStatus: PartnerStatus
  householdId: string | null
  leg: string | null
  dueAt: string | null
  atRiskAt: string | null
  consent: Consent
  partnersTried: string[]
}

/** What a partner's webhook receives: codes and ids only (see `deliverPartnerWebhook`). */
export interface WebhookEvent {
  /** Workflow id + event sequence: the delivery's idempotency key. */
  key: string
  partnerCode: string
  caseId: string
  type: 'referral.routed'
  occurredAt: string
  data: {
    referralId: string
    reference: string
    serviceCode: string
    areaCode: string
    respondBy: string | null
  }
}

/** HMAC-SHA256 over `<timestamp>.<body>`, hex: the `X-RSU-Signature: v1=<hex>` header. */
export function webhookSignature(secret: string, timestamp: string, body: string): string {
  return createHmac('sha256', secret).update(`${timestamp}.${body}`).digest('hex')
}

/** Sets (or clears) a partner's webhook; the secret is stored encrypted. */
export async function setPartnerWebhook(
  db: Db,
  cipher: FieldCipher,
  partnerCode: string,
  webhook: { url: string; secret: string } | null,
): Promise<void> {
  await db
    .updateTable('partners')
    .set({
      webhookUrl: webhook?.url ?? null,
      webhookSecret: webhook ? sealed(cipher, webhook.secret) : null,
    })
    .where('code', '=', partnerCode)
    .execute()
}

/**
 * Referral activities: the context a referral snapshots when it opens (leg targets, calendar,
 * partners covering the service in its area in priority order), its projection (the case, then
 * the `referrals` row, each idempotent on the event sequence), and the signed webhook to a
 * partner, delivered at most once per event.
 */
export function createReferralActivities({
  db,
  cipher,
  publicUrl,
  log,
  fetchImpl = (...args) => fetch(...args),
  webhooks = STRICT_WEBHOOKS,
  resolve = systemResolve,
}: {
  db: Db
  cipher: FieldCipher
  publicUrl?: string
  log?: Logger
  fetchImpl?: typeof fetch
  /** Where webhooks may point (config: https outside the embedded default, an allow-list). */
  webhooks?: WebhookPolicy
  /** The resolver whose answers are checked before each delivery (tests give their own). */
  resolve?: Resolve
}) {
  const { projectCaseEvent } = createProjectionActivities({ db, publicUrl, cipher })

  return {
    async loadReferralContext(input: {
      serviceCode: string
      areaCode: string
      priority?: string
    }): Promise<ReferralContext> {
      const areaPath = await areaAncestry(db, input.areaCode)
      const policy = await loadPolicy(db, 'referral', REFERRAL_DEFAULTS, input.priority)
      // Partners delivering the service in the area or one above it, best priority first.
      const partners = await db
        .selectFrom('partnerServices as ps')
        .innerJoin('partners as p', 'p.code', 'ps.partnerCode')
        .select(['ps.partnerCode', (eb) => eb.fn.min('ps.priority').as('priority')])
        .where('ps.serviceCode', '=', input.serviceCode)
        .where('ps.areaCode', 'in', areaPath)
        .where('p.active', '=', true)
        .groupBy('ps.partnerCode')
        .orderBy('priority')
        .orderBy('ps.partnerCode')
        .execute()
      const historyLimit = await loadHistoryLimit(db)
      return {
        ...(historyLimit ? { historyLimit } : {}),
        policy: { ...policy, calendar: await loadCalendar(db) },
        areaPath,
        partners: partners.map((p) => p.partnerCode),
      }
    },

    /** Projects the case event, then the referral row; both keyed on the event's sequence. */
    async projectReferralEvent(
      event: CaseEvent,
      row: ReferralRow,
    ): Promise<{ notificationKeys: string[] }> {
      const out = await projectCaseEvent(event)
      await db.transaction().execute((trx) => projectReferralRowInto(trx, event, row))
      return out
    },

    /**
     * POSTs a referral event to the partner's webhook, if it has one. The body carries the
     * referral id and reference, the service, the commune code and the answer deadline: no name,
     * no contact, no household id, nothing of the case's free text — the partner signs in (or
     * uses its token) to read the referral it accepted. Signed with HMAC-SHA256 over
     * `<timestamp>.<body>` (headers `X-RSU-Timestamp`, `X-RSU-Signature: v1=<hex>`), with the
     * event key as `Idempotency-Key`. A delivery recorded as done is never sent again, whatever
     * the retries; a 5xx or a network error is retried by Temporal; a 4xx is final.
     */
    async deliverPartnerWebhook(event: WebhookEvent): Promise<'delivered' | 'already' | 'none'> {
      const partner = await db
        .selectFrom('partners')
        .select(['webhookUrl', 'webhookSecret'])
        .where('code', '=', event.partnerCode)
        .executeTakeFirst()
      const secret = opened(cipher, partner?.webhookSecret)
      if (!partner?.webhookUrl || !secret) return 'none'
      await db
        .insertInto('webhookDeliveries')
        .values({
          key: event.key,
          partnerCode: event.partnerCode,
          caseId: event.caseId,
          eventType: event.type,
        })
        .onConflict((oc) => oc.column('key').doNothing())
        .execute()
      const row = await db
        .updateTable('webhookDeliveries')
        .set((eb) => ({ attempts: eb('attempts', '+', 1) }))
        .where('key', '=', event.key)
        .where('status', '=', 'pending')
        .returning('attempts')
        .executeTakeFirst()
      // Delivered (or given up) before: an activity retried after its success sends nothing.
      if (!row) return 'already'
      const body = JSON.stringify({
        id: event.key,
        type: event.type,
        occurredAt: event.occurredAt,
        data: event.data,
      })
      // Checked at every delivery, not only when saved: a name can be re-pointed at any time.
      try {
        await resolveWebhookTarget(partner.webhookUrl, webhooks, resolve)
      } catch (error) {
        if (!(error instanceof WebhookTargetError)) throw error
        await db
          .updateTable('webhookDeliveries')
          .set({ status: 'failed' })
          .where('key', '=', event.key)
          .execute()
        log?.warn(
          { partner: event.partnerCode, key: event.key, code: error.code },
          'webhook refused',
        )
        throw ApplicationFailure.nonRetryable(
          `partner webhook target refused: ${error.code}`,
          error.code,
        )
      }
      const timestamp = String(Math.floor(Date.now() / 1000))
      let status: number
      try {
        const response = await fetchImpl(partner.webhookUrl, {
          // A redirect could lead anywhere, the checks above notwithstanding: never followed.
          redirect: 'manual',
          method: 'POST',
          headers: {
            'content-type': 'application/json',
            'idempotency-key': event.key,
            'x-rsu-timestamp': timestamp,
            'x-rsu-signature': `v1=${webhookSignature(secret, timestamp, body)}`,
          },
          body,
          signal: AbortSignal.timeout(10_000),
        })
        status = response.status
      } catch (error) {
        log?.warn({ partner: event.partnerCode, key: event.key }, 'webhook unreachable')
        throw error
      }
      await db
        .updateTable('webhookDeliveries')
        .set({
          lastStatus: status,
          ...(status < 300 ? { status: 'delivered' as const, deliveredAt: new Date() } : {}),
          ...((status >= 300 && status < 400) ||
          (status >= 400 && status < 500 && status !== 408 && status !== 429)
            ? { status: 'failed' as const }
            : {}),
        })
        .where('key', '=', event.key)
        .execute()
      if (status < 300) return 'delivered'
      if (status < 400) {
        throw ApplicationFailure.nonRetryable(
          `partner webhook redirected: ${status}`,
          'WEBHOOK_REDIRECTED',
        )
      }
      if (status >= 400 && status < 500 && status !== 408 && status !== 429) {
        throw ApplicationFailure.nonRetryable(
          `partner webhook refused: ${status}`,
          'WEBHOOK_REFUSED',
        )
      }
      throw new Error(`partner webhook answered ${status}`)
    },

    /** Users who may take a task: `role` in one of `areaCodes`, active, not on leave, not `except`. */
    async pickAssigneeExcept(input: {
      role: 'case_worker' | 'supervisor' | 'programme_manager'
      areaCodes: string[]
      clearance: boolean
      except: string[]
      /** This case's tasks no longer open whose projection may still be on its way. */
      settledTaskIds?: string[]
    }): Promise<string | null> {
      const row = await db
        .selectFrom('users')
        .innerJoin('userRoles', 'userRoles.userId', 'users.id')
        .select('users.id')
        .where('userRoles.roleCode', '=', input.role)
        .where('userRoles.areaCode', 'in', input.areaCodes)
        .where('users.active', '=', true)
        .where('users.onLeave', '=', false)
        .$if(input.except.length > 0, (qb) => qb.where('users.id', 'not in', input.except))
        .$if(input.clearance, (qb) => qb.where('users.sensitiveClearance', '=', true))
        .orderBy(
          (eb) =>
            eb
              .selectFrom('tasks')
              .select((e) => e.fn.countAll().as('n'))
              .whereRef('tasks.assigneeId', '=', 'users.id')
              .where('tasks.status', 'in', ['open', 'claimed'])
              .$if(!!input.settledTaskIds?.length, (q) =>
                q.where('tasks.id', 'not in', input.settledTaskIds!),
              ),
          'asc',
        )
        .orderBy('users.username')
        .executeTakeFirst()
      return row?.id ?? null
    },
  }
}

/** Upserts the referral's row beside its case (keyed on the event's sequence), in `trx`. */
export async function projectReferralRowInto(
  trx: Transaction<Database>,
  event: CaseEvent,
  row: ReferralRow,
): Promise<void> {
  const values = {
    caseId: event.caseId,
    ...row,
    consent: row.consent as object,
    createdAt: event.snapshot.openedAt,
    lastEventSeq: event.seq,
  }
  await trx
    .insertInto('referrals')
    .values(values)
    .onConflict((oc) =>
      oc
        .column('caseId')
        .doUpdateSet({ ...values, caseId: undefined, createdAt: undefined })
        .where('referrals.lastEventSeq', '<', event.seq),
    )
    .execute()
  // The source case shows the referral it spawned in its chain of linked cases.
  if (row.sourceCaseId) {
    await trx
      .insertInto('caseLinks')
      .values({ fromCaseId: row.sourceCaseId, toCaseId: event.caseId, kind: 'spawned' })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
}
