import type { Transaction } from 'kysely'
import type { CaseEvent, NotificationIntent } from '../workflows/messages'
import type { Db } from './db/db'
import type { Database } from './db/schema'
import { opened, sealed, type FieldCipher } from './crypto/field-cipher'
import { queueNotifications, type NotificationRequest } from './notifications/outbox'

/**
 * Projects one case event into the read model, in one transaction: appends it to `case_events`,
 * brings the `cases` and `tasks` rows up to date, stores the complainant's contact apart, and
 * queues the notifications it causes in the outbox. Idempotent: the (workflow id, seq) key makes a
 * retried activity a no-op, and a row never moves back to an older sequence. Returns the outbox
 * keys to deliver (the same ones on a retry, so a lost delivery is started again).
 */
export function createProjectionActivities({
  db,
  publicUrl,
  cipher,
}: {
  db: Db
  publicUrl?: string
  /** Contact details and recipients are encrypted at rest. */
  cipher: FieldCipher
}) {
  return {
    async projectCaseEvent(event: CaseEvent): Promise<{ notificationKeys: string[] }> {
      return db.transaction().execute(async (trx) => {
        const requests = await projectEventInto(trx, event, cipher, publicUrl)
        return { notificationKeys: requests.map((r) => r.dedupeKey) }
      })
    },
  }
}

/**
 * Projects one event inside the caller's transaction (see `createProjectionActivities`) and
 * queues its notifications there; returns the outbox rows it queued.
 */
export async function projectEventInto(
  trx: Transaction<Database>,
  event: CaseEvent,
  cipher: FieldCipher,
  publicUrl?: string,
): Promise<NotificationRequest[]> {
  const s = event.snapshot
  await trx
    .insertInto('cases')
    .values({
      id: s.caseId,
      workflowId: event.workflowId,
      reference: s.reference ?? null,
      kind: s.kind,
      status: s.status,
      stage: s.stage,
      areaCode: s.areaCode,
      category: s.category ?? null,
      priority: s.priority,
      channel: s.channel ?? null,
      sensitive: s.sensitive,
      slaState: s.slaState ?? 'on_track',
      resolveDueAt: s.resolveDueAt ?? null,
      ackDueAt: s.ackDueAt ?? null,
      escalationLevel: s.escalationLevel ?? 0,
      satisfaction: s.satisfaction ?? null,
      openedAt: s.openedAt,
      closedAt: s.closedAt ?? null,
      parentCaseId: s.parentCaseId ?? null,
      householdId: s.householdId ?? null,
      lastEventSeq: event.seq,
    })
    .onConflict((oc) =>
      oc
        .column('id')
        .doUpdateSet((eb) => ({
          status: eb.ref('excluded.status'),
          stage: eb.ref('excluded.stage'),
          category: eb.ref('excluded.category'),
          priority: eb.ref('excluded.priority'),
          sensitive: eb.ref('excluded.sensitive'),
          slaState: eb.ref('excluded.slaState'),
          resolveDueAt: eb.ref('excluded.resolveDueAt'),
          escalationLevel: eb.ref('excluded.escalationLevel'),
          satisfaction: eb.ref('excluded.satisfaction'),
          closedAt: eb.ref('excluded.closedAt'),
          lastEventSeq: eb.ref('excluded.lastEventSeq'),
          updatedAt: new Date(),
        }))
        .where('cases.lastEventSeq', '<', event.seq),
    )
    .execute()
  const inserted = await trx
    .insertInto('caseEvents')
    .values({
      caseId: s.caseId,
      workflowId: event.workflowId,
      seq: event.seq,
      type: event.type,
      actorId: event.actor.userId,
      actorRole: event.actor.role,
      occurredAt: event.occurredAt,
      before: event.before,
      after: event.after,
      data: event.data ?? null,
    })
    .onConflict((oc) => oc.constraint('case_events_workflow_seq_key').doNothing())
    .returning('id')
    .executeTakeFirst()
  const firstTime = inserted !== undefined

  for (const task of event.tasks ?? []) {
    await trx
      .insertInto('tasks')
      .values({ ...task, caseId: s.caseId, result: task.result, lastEventSeq: event.seq })
      .onConflict((oc) =>
        oc
          .column('id')
          .doUpdateSet((eb) => ({
            status: eb.ref('excluded.status'),
            assigneeId: eb.ref('excluded.assigneeId'),
            dueAt: eb.ref('excluded.dueAt'),
            completedAt: eb.ref('excluded.completedAt'),
            completedBy: eb.ref('excluded.completedBy'),
            result: eb.ref('excluded.result'),
            lastEventSeq: eb.ref('excluded.lastEventSeq'),
          }))
          .where('tasks.lastEventSeq', '<', event.seq),
      )
      .execute()
  }
  if (firstTime && event.contact && (event.contact.email || event.contact.phone)) {
    await trx
      .insertInto('complainantContacts')
      .values({
        caseId: s.caseId,
        email: sealed(cipher, event.contact.email),
        phone: sealed(cipher, event.contact.phone),
        locale: event.contact.locale,
      })
      .onConflict((oc) => oc.column('caseId').doNothing())
      .execute()
  }
  for (const link of event.links ?? []) {
    await trx
      .insertInto('caseLinks')
      .values({
        fromCaseId: link.fromCaseId ?? s.caseId,
        toCaseId: link.toCaseId,
        kind: link.kind,
      })
      .onConflict((oc) => oc.doNothing())
      .execute()
  }
  // A case opened for another one's household reaches the same complainant.
  if (firstTime && event.copyContactFrom) {
    await trx
      .insertInto('complainantContacts')
      .columns(['caseId', 'email', 'phone', 'locale'])
      .expression((eb) =>
        eb
          .selectFrom('complainantContacts')
          .select((e) => [e.val(s.caseId).as('caseId'), 'email', 'phone', 'locale'])
          .where('caseId', '=', event.copyContactFrom!),
      )
      .onConflict((oc) => oc.column('caseId').doNothing())
      .execute()
  }
  const requests = await resolveRecipients(trx, event, cipher, publicUrl)
  await queueNotifications(trx, requests, { cipher })
  return requests
}

/**
 * Turns intents (a user, the complainant) into outbox rows: the address comes from the database,
 * never from the workflow, and a recipient without an address is skipped. The key names the
 * event and the recipient by id, never by address.
 */
async function resolveRecipients(
  trx: Transaction<Database>,
  event: CaseEvent,
  cipher: FieldCipher,
  publicUrl?: string,
): Promise<NotificationRequest[]> {
  const requests: NotificationRequest[] = []
  const reference = event.snapshot.reference ?? event.caseId
  for (const [index, intent] of (event.notify ?? []).entries()) {
    const recipient = await recipientOf(trx, event.caseId, intent)
    const email = opened(cipher, recipient?.email)
    if (!recipient || !email) continue
    const toComplainant = 'complainant' in intent.to
    requests.push({
      dedupeKey: `${event.workflowId}:${event.seq}:${index}`,
      caseId: event.caseId,
      template: intent.template,
      locale: recipient.locale === 'en' ? 'en' : 'fr',
      recipient: email,
      params: {
        reference,
        // Staff get a link to the console; complainants follow with reference + PIN.
        ...(publicUrl && !toComplainant
          ? { link: `${publicUrl}/admin/#/cases/${event.caseId}` }
          : {}),
        ...(publicUrl && toComplainant ? { link: `${publicUrl}/suivi` } : {}),
        ...(intent.params.dueAt ? { dueAt: intent.params.dueAt } : {}),
        ...(intent.params.taskKind ? { taskKind: intent.params.taskKind } : {}),
        ...(intent.params.level ? { level: intent.params.level } : {}),
      },
    })
  }
  return requests
}

async function recipientOf(
  trx: Transaction<Database>,
  caseId: string,
  intent: NotificationIntent,
): Promise<{ email: string | null; locale: string } | undefined> {
  if ('complainant' in intent.to) {
    return trx
      .selectFrom('complainantContacts')
      .select(['email', 'locale'])
      .where('caseId', '=', caseId)
      .executeTakeFirst()
  }
  return trx
    .selectFrom('users')
    .select(['email', 'locale'])
    .where('id', '=', intent.to.userId)
    .executeTakeFirst()
}
