import {
  WithStartWorkflowOperation,
  type Client,
  type WorkflowStartOptions,
} from '@temporalio/client'
import type { Workflow } from '@temporalio/common'
import type { Selectable } from 'kysely'
import type { z } from '@hono/zod-openapi'
import type { Db } from '../../activities/db/db'
import type { CasesTable } from '../../activities/db/schema'
import { startWithin } from '../deadline'
import {
  caseOpenedUpdate,
  caseSnapshotQuery,
  caseViewQuery,
  caseWorkflowId,
  type Answered,
  type ProjectedRows,
} from '../../workflows/messages'

/**
 * Tying an API command body to its Update's argument: `commandBody<PauseSlaCommand>()(schema)`
 * compiles only when the schema's output is exactly the command without what the API adds itself
 * (the actor, a task id taken from the path), so the two cannot drift apart unnoticed.
 */
type Same<A, B> = [A] extends [B] ? ([B] extends [A] ? true : false) : false
export const commandBody =
  <C, Added extends keyof C = never>() =>
  <S extends z.ZodType>(
    schema: S &
      (Same<z.infer<S>, Omit<C, 'actor' | Added>> extends true
        ? unknown
        : { bodyDriftsFromUpdateArgument: Omit<C, 'actor' | Added> }),
  ): S =>
    schema

/**
 * An Update's answer split into what the case kernel projected (the rows the API answers with:
 * no query, no polling) and the command's own result. Cases opened before the kernel answer
 * without projected rows; for them `legacyRows` waits as the API always did.
 */
export function splitAnswer(answer: unknown): {
  projected: ProjectedRows | undefined
  result: unknown
} {
  if (answer === null || typeof answer !== 'object') return { projected: undefined, result: answer }
  const { projected, ...result } = answer as Answered<Record<string, unknown>>
  return { projected, result }
}

/**
 * Opens a case with Update-with-Start: one call starts the workflow (by function reference, with
 * its search attributes, so it upserts none) and answers once the opening is projected, with the
 * case's state and the projected rows. A second start of the same id is refused.
 */
export async function openCase<W extends Workflow>(
  temporal: Client,
  workflow: W,
  options: WorkflowStartOptions<W>,
) {
  const answer = await startWithin(temporal, () =>
    temporal.workflow.executeUpdateWithStart(caseOpenedUpdate, {
      startWorkflowOperation: new WithStartWorkflowOperation(workflow, {
        ...options,
        workflowIdConflictPolicy: 'FAIL',
      } as WorkflowStartOptions<W> & { workflowIdConflictPolicy: 'FAIL' }),
    }),
  )
  return splitAnswer(answer)
}

/** Live state of a case of any kind (null when it cannot answer in time). */
export async function liveState(temporal: Client, caseId: string) {
  try {
    return await temporal.connection.withDeadline(Date.now() + 3_000, () =>
      temporal.workflow.getHandle(caseWorkflowId(caseId)).query(caseViewQuery),
    )
  } catch {
    return null
  }
}

export type CaseRow = Selectable<CasesTable>

/**
 * For cases opened before the kernel only (their Updates answer before the workflow moves on).
 * Read-your-writes: the Update answers once its own event is projected, but the workflow may move
 * on at once (a completed triage moves the case to investigation, then opens a task). Waits,
 * briefly, until the case row has caught up with the workflow's sequence, and once more if the
 * sequence moved meanwhile, so that the console's next list shows where the case now stands.
 */
export async function settleLegacy(
  db: Db,
  temporal: Client,
  caseId: string,
  timeoutMs = 5_000,
): Promise<void> {
  const deadline = Date.now() + timeoutMs
  const workflowSeq = async () => {
    try {
      const view = await temporal.connection.withDeadline(Date.now() + 2_000, () =>
        temporal.workflow.getHandle(caseWorkflowId(caseId)).query(caseSnapshotQuery),
      )
      return view.seq
    } catch {
      return undefined // not queryable now: the command's own projection is written, enough
    }
  }
  let seq = await workflowSeq()
  for (let round = 0; seq !== undefined && round < 3; round++) {
    for (;;) {
      const row = await db
        .selectFrom('cases')
        .select('lastEventSeq')
        .where('id', '=', caseId)
        .executeTakeFirst()
      if (!row || row.lastEventSeq >= seq || Date.now() > deadline) break
      await new Promise((resolve) => setTimeout(resolve, 25))
    }
    const next = await workflowSeq()
    if (next === undefined || next <= seq || Date.now() > deadline) return
    seq = next
  }
}
