import { WorkflowNotFoundError, type Client } from '@temporalio/client'
import { temporal } from '@temporalio/proto'
import { sql } from 'kysely'
import type { Db } from '../../activities/db/db'
import { caseSnapshotQuery, caseWorkflowId } from '../../workflows/messages'

const EventType = temporal.api.enums.v1.EventType
const bare = (messageId: string) => messageId.replace(/^<|>$/g, '')

export interface InvariantScope {
  db: Db
  /** A client with the payload codec (queries answer through the worker). */
  client: Client
  /** The task queue of the cases under test: every grievance workflow on it must have its row. */
  taskQueue: string
  /** The cases the test opened: each must have its row and its workflow. */
  caseIds: string[]
  /** Messages the SMTP server received (at least their Message-ID). */
  mailbox: () => Promise<{ messageId?: string }[]>
}

/**
 * The whole system's invariants, checked after each fault; returns what is violated (an empty
 * list when all hold):
 * - every case row has its workflow, every workflow its row (anonymised cases excepted);
 * - at most one completion per task;
 * - every notification settled: sent exactly once (one message with its Message-ID) or failed;
 * - no workflow stuck on (or having gone through) a failed workflow task;
 * - the audit log matches the business events: seqs 1..n without gap, n = the row's last seq =
 *   the workflow's own seq.
 */
export async function checkInvariants(scope: InvariantScope): Promise<string[]> {
  const { db, client } = scope
  const violations: string[] = []
  const rows = await db
    .selectFrom('cases')
    .select(['id', 'workflowId', 'lastEventSeq', 'anonymisedAt'])
    .execute()
  const rowById = new Map(rows.map((r) => [r.id, r]))

  // Rows ↔ workflows.
  const listed = new Set<string>()
  for await (const run of client.workflow.list({
    query: `WorkflowType = 'grievanceWorkflow' AND TaskQueue = '${scope.taskQueue}'`,
  })) {
    listed.add(run.workflowId)
  }
  const workflowIds = new Set([
    ...listed,
    ...scope.caseIds.map(caseWorkflowId),
    ...rows.map((r) => r.workflowId),
  ])
  const described = new Map<string, boolean>()
  for (const workflowId of workflowIds) {
    try {
      await client.workflow.getHandle(workflowId).describe()
      described.set(workflowId, true)
    } catch (error) {
      if (!(error instanceof WorkflowNotFoundError)) throw error
      described.set(workflowId, false)
    }
  }
  for (const caseId of scope.caseIds) {
    if (!rowById.has(caseId)) violations.push(`case ${caseId}: no row in cases`)
  }
  for (const row of rows) {
    if (!row.anonymisedAt && !described.get(row.workflowId)) {
      violations.push(`case ${row.id}: row without workflow ${row.workflowId}`)
    }
  }
  for (const workflowId of listed) {
    if (!rows.some((r) => r.workflowId === workflowId)) {
      violations.push(`workflow ${workflowId}: no row in cases`)
    }
  }

  // At most one completion per task, and every completed task has its completion event.
  const completions = await db
    .selectFrom('caseEvents')
    .select([sql<string>`after->>'taskId'`.as('taskId'), (eb) => eb.fn.countAll<string>().as('n')])
    .where('type', 'in', ['task.completed', 'approval.decided'])
    .groupBy(sql`after->>'taskId'`)
    .execute()
  for (const c of completions.filter((c) => Number(c.n) > 1)) {
    violations.push(`task ${c.taskId}: completed ${c.n} times`)
  }
  const completedTasks = await db
    .selectFrom('tasks')
    .select('id')
    .where('status', '=', 'completed')
    .execute()
  const withEvent = new Set(completions.map((c) => c.taskId))
  for (const t of completedTasks.filter((t) => !withEvent.has(t.id))) {
    violations.push(`task ${t.id}: completed without a completion event`)
  }

  // Each notification sent exactly once, or recorded as failed; none left behind.
  const outbox = await db
    .selectFrom('notificationOutbox')
    .select(['id', 'status', 'messageId'])
    .execute()
  const received = new Map<string, number>()
  for (const m of await scope.mailbox()) {
    if (m.messageId) received.set(bare(m.messageId), (received.get(bare(m.messageId)) ?? 0) + 1)
  }
  for (const row of outbox) {
    const copies = row.messageId ? (received.get(bare(row.messageId)) ?? 0) : 0
    if (row.status === 'pending' || row.status === 'sending') {
      violations.push(`notification ${row.id}: still ${row.status}`)
    } else if (row.status === 'sent' && copies !== 1) {
      violations.push(`notification ${row.id}: sent, received ${copies} times`)
    } else if (row.status === 'failed' && copies > 1) {
      violations.push(`notification ${row.id}: failed, received ${copies} times`)
    }
  }

  // Workflow tasks that failed (non-determinism, a bug): a case stuck or at risk of it.
  for (const workflowId of [...workflowIds].filter((id) => described.get(id))) {
    const history = await client.workflow.getHandle(workflowId).fetchHistory()
    const failed = (history.events ?? []).filter(
      (e) => e.eventType === EventType.EVENT_TYPE_WORKFLOW_TASK_FAILED,
    )
    if (failed.length)
      violations.push(`workflow ${workflowId}: ${failed.length} failed workflow tasks`)
  }

  // The audit log against the business events.
  const seqs = await db
    .selectFrom('caseEvents')
    .select(['caseId', 'seq'])
    .orderBy('caseId')
    .orderBy('seq')
    .execute()
  const byCase = new Map<string, number[]>()
  for (const e of seqs) byCase.set(e.caseId, [...(byCase.get(e.caseId) ?? []), e.seq])
  for (const row of rows) {
    const audit = byCase.get(row.id) ?? []
    if (audit.some((seq, i) => seq !== i + 1)) {
      violations.push(`case ${row.id}: audit seqs ${audit.join(',')} have a gap`)
    }
    if (audit.length !== row.lastEventSeq) {
      violations.push(
        `case ${row.id}: ${audit.length} audit events, row at seq ${row.lastEventSeq}`,
      )
    }
    if (row.anonymisedAt || !described.get(row.workflowId)) continue
    const snapshot = await client.workflow
      .withDeadline(Date.now() + 30_000, () =>
        client.workflow.getHandle(row.workflowId).query(caseSnapshotQuery),
      )
      .catch((error: unknown) => error as Error)
    if (snapshot instanceof Error) {
      violations.push(`case ${row.id}: query failed: ${snapshot.message}`)
    } else if (snapshot.seq !== audit.length) {
      violations.push(`case ${row.id}: workflow at seq ${snapshot.seq}, audit has ${audit.length}`)
    }
  }
  return violations
}
