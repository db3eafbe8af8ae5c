import type { CaseEvent } from '../workflows/messages'
import type { Db } from './db/db'

/**
 * Projects one case event into the read model: appends it to `case_events` and brings the `cases`
 * row up to date, in one transaction. Idempotent: the (workflow id, seq) key makes a retried
 * activity a no-op, and a row never moves back to an older sequence.
 */
export function createProjectionActivities({ db }: { db: Db }) {
  return {
    async projectCaseEvent(event: CaseEvent): Promise<void> {
      const s = event.snapshot
      await db.transaction().execute(async (trx) => {
        await trx
          .insertInto('cases')
          .values({
            id: s.caseId,
            workflowId: event.workflowId,
            kind: s.kind,
            status: s.status,
            stage: s.stage,
            areaCode: s.areaCode,
            category: s.category ?? null,
            priority: s.priority,
            channel: s.channel ?? null,
            sensitive: s.sensitive,
            openedAt: s.openedAt,
            closedAt: s.closedAt ?? null,
            parentCaseId: null,
            householdId: null,
            ackDueAt: null,
            resolveDueAt: null,
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
                closedAt: eb.ref('excluded.closedAt'),
                lastEventSeq: eb.ref('excluded.lastEventSeq'),
                updatedAt: new Date(),
              }))
              .where('cases.lastEventSeq', '<', event.seq),
          )
          .execute()
        await trx
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
            data: null,
          })
          .onConflict((oc) => oc.constraint('case_events_workflow_seq_key').doNothing())
          .execute()
      })
    },
  }
}
