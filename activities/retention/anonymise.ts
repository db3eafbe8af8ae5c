import { Context } from '@temporalio/activity'
import { WorkflowNotFoundError, type Client } from '@temporalio/client'
import { sql } from 'kysely'
import type { Db } from '../db/db'

/** What a recipient address becomes in the outbox once its case is anonymised. */
export const ANONYMISED = '[anonymised]'

export interface RetentionSettings {
  /** A closed case is anonymised this many seconds after it closed. */
  closedCaseSeconds: number
}

/** The retention period in force (`app_settings.retention`), read at each run. */
export async function retentionSettings(db: Db): Promise<RetentionSettings> {
  const row = await db
    .selectFrom('appSettings')
    .select('value')
    .where('key', '=', 'retention')
    .executeTakeFirst()
  const seconds = (row?.value as Partial<RetentionSettings> | undefined)?.closedCaseSeconds
  if (typeof seconds !== 'number' || !Number.isFinite(seconds) || seconds < 0) {
    // Refuse to guess: a missing or broken setting must not anonymise anything early.
    throw new Error('app_settings.retention.closedCaseSeconds is missing or invalid')
  }
  return { closedCaseSeconds: seconds }
}

/**
 * Deletes every run of a case's workflow, and with them the narrative, notes and findings that
 * only ever lived in its (encrypted) history. A run already gone counts as deleted.
 */
async function deleteWorkflowRuns(client: Client, workflowId: string): Promise<number> {
  const namespace = client.options.namespace
  const runIds = new Set<string>()
  for await (const run of client.workflow.list({ query: `WorkflowId = '${workflowId}'` })) {
    runIds.add(run.runId)
  }
  try {
    // Visibility may lag behind: the current run, whatever the list says.
    runIds.add((await client.workflow.getHandle(workflowId).describe()).runId)
  } catch (error) {
    if (!(error instanceof WorkflowNotFoundError)) throw error
  }
  for (const runId of runIds) {
    try {
      await client.workflowService.deleteWorkflowExecution({
        namespace,
        workflowExecution: { workflowId, runId },
      })
    } catch (error) {
      // NOT_FOUND (gRPC 5): deleted by an earlier attempt of this activity.
      if ((error as { code?: unknown }).code !== 5) throw error
    }
  }
  return runIds.size
}

/**
 * Retention (DESIGN §5: closed cases are anonymised after a configurable period). One batch of
 * closed cases whose period has run out: the workflow history (narrative, notes, findings) is
 * deleted, the complainant's contact is deleted, outbox recipients are overwritten, the case row
 * is marked, and a `case.anonymised` event is appended to the audit log. The audit log itself is
 * never changed: it holds codes, not the complainant's words (see `workflows/forms.ts`).
 * Idempotent and resumable: each case commits on its own, a case already marked is skipped, and
 * deleting an already deleted history is a no-op.
 */
export function createRetentionActivities({ db }: { db: Db }) {
  return {
    async anonymiseExpiredCases({
      batchSize,
    }: {
      batchSize: number
    }): Promise<{ anonymised: number; more: boolean }> {
      const { closedCaseSeconds } = await retentionSettings(db)
      const cutoff = new Date(Date.now() - closedCaseSeconds * 1000)
      const due = await db
        .selectFrom('cases')
        .select(['id', 'workflowId'])
        .where('status', '=', 'closed')
        .where('anonymisedAt', 'is', null)
        .where('closedAt', '<=', cutoff)
        .orderBy('closedAt')
        .limit(batchSize)
        .execute()
      const context = Context.current()
      let anonymised = 0
      for (const kase of due) {
        context.heartbeat({ anonymised })
        const deletedRuns = await deleteWorkflowRuns(context.client, kase.workflowId)
        const done = await db.transaction().execute(async (trx) => {
          // The row lock orders this with a projection of the same case (a reopen racing us).
          const row = await trx
            .selectFrom('cases')
            .select(['lastEventSeq', 'status', 'anonymisedAt'])
            .where('id', '=', kase.id)
            .forUpdate()
            .executeTakeFirstOrThrow()
          if (row.anonymisedAt || row.status !== 'closed') return false
          const contacts = await trx
            .deleteFrom('complainantContacts')
            .where('caseId', '=', kase.id)
            .executeTakeFirst()
          const recipients = await trx
            .updateTable('notificationOutbox')
            .set({
              recipient: ANONYMISED,
              // An SMTP error may quote the address it refused.
              lastError: sql<
                string | null
              >`case when last_error is null then null else ${ANONYMISED} end`,
            })
            .where('caseId', '=', kase.id)
            .executeTakeFirst()
          const seq = row.lastEventSeq + 1
          await trx
            .insertInto('caseEvents')
            .values({
              caseId: kase.id,
              workflowId: kase.workflowId,
              seq,
              type: 'case.anonymised',
              actorId: null,
              actorRole: 'system',
              occurredAt: new Date(),
              before: null,
              after: { anonymised: true },
              data: {
                retentionSeconds: closedCaseSeconds,
                removed: {
                  contacts: Number(contacts.numDeletedRows),
                  recipients: Number(recipients.numUpdatedRows),
                  workflowRuns: deletedRuns,
                },
              },
            })
            .onConflict((oc) => oc.constraint('case_events_workflow_seq_key').doNothing())
            .execute()
          await trx
            .updateTable('cases')
            .set({ anonymisedAt: new Date(), householdId: null, lastEventSeq: seq })
            .where('id', '=', kase.id)
            .execute()
          return true
        })
        if (done) anonymised += 1
      }
      return { anonymised, more: due.length === batchSize }
    },
  }
}

export type RetentionActivities = ReturnType<typeof createRetentionActivities>
