import type { Selectable } from 'kysely'
import type { ProjectedRows, ProjectionItem } from '../workflows/messages'
import type { FieldCipher } from './crypto/field-cipher'
import type { Db } from './db/db'
import type { CasesTable, TasksTable } from './db/schema'
import { projectEventInto } from './projection'

export type ProjectedCaseRow = Selectable<CasesTable>
export type ProjectedTaskRow = Selectable<TasksTable>
import { projectReferralRowInto } from './referrals/activities'

/**
 * The kernel's one projection per command (DESIGN §3): every event a command caused, for every
 * case kind, projected in ONE PostgreSQL transaction with the outbox rows they queue, idempotent
 * on (workflow id, seq) like the single-event projection. Runs as a local activity inside the
 * workflow task of the command, so an Update answers with the rows it wrote: the case row and the
 * rows of the tasks the batch touched. Notifications are handed to the dispatcher once committed:
 * they go out beside the case, never inside its workflow (the sweeper catches up after a crash).
 */
export function createCaseProjectionActivities({
  db,
  cipher,
  publicUrl,
  dispatch,
}: {
  db: Db
  cipher: FieldCipher
  publicUrl?: string
  /** Delivers queued notifications soon, outside the case's critical path. */
  dispatch?: () => void
}) {
  return {
    async projectCaseEvents(batch: ProjectionItem[]): Promise<ProjectedRows> {
      const last = batch[batch.length - 1]
      if (!last) throw new Error('an empty projection batch')
      const caseId = last.event.caseId
      const taskIds = [...new Set(batch.flatMap((i) => (i.event.tasks ?? []).map((t) => t.id)))]
      const { rows, queued } = await db.transaction().execute(async (trx) => {
        let queued = 0
        for (const item of batch) {
          queued += (await projectEventInto(trx, item.event, cipher, publicUrl)).length
          if (item.referral) await projectReferralRowInto(trx, item.event, item.referral)
        }
        const caseRow = await trx
          .selectFrom('cases')
          .selectAll()
          .where('id', '=', caseId)
          .executeTakeFirst()
        const tasks = taskIds.length
          ? await trx.selectFrom('tasks').selectAll().where('id', 'in', taskIds).execute()
          : []
        return { rows: { caseRow, tasks }, queued }
      })
      if (queued > 0) dispatch?.()
      return {
        seq: last.event.seq,
        case: (rows.caseRow ?? null) as Selectable<CasesTable> | null,
        tasks: rows.tasks as Selectable<TasksTable>[],
      }
    },
  }
}
