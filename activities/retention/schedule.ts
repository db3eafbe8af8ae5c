import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client'
import type { Duration } from '@temporalio/common'
import type { RetentionInput } from '../../workflows/retention'

/** The schedule's id: one per task queue, so that test queues and deployments never share one. */
export const retentionScheduleId = (taskQueue: string) => `retention-${taskQueue}`

/**
 * Creates the Temporal Schedule that runs the retention workflow (daily by default) unless it
 * exists already: every worker calls this at start, and only the first creates it.
 */
export async function ensureRetentionSchedule(
  client: Client,
  options: { taskQueue: string; every?: Duration; input?: RetentionInput },
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = retentionScheduleId(options.taskQueue)
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every ?? '1 day' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'retentionWorkflow',
        workflowId: `retention-run-${options.taskQueue}`,
        taskQueue: options.taskQueue,
        args: [options.input ?? {}],
      },
      // A run still going when the next is due: the next is skipped, never run alongside.
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    })
    return { scheduleId, created: true }
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { scheduleId, created: false }
    throw error
  }
}
