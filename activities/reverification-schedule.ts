import { ScheduleAlreadyRunning, ScheduleOverlapPolicy, type Client } from '@temporalio/client'
import type { Duration } from '@temporalio/common'
import type { RecertificationSweepInput } from '../workflows/kinds/reverification/messages'

/** One schedule per task queue, so that test queues and deployments never share one. */
export const recertificationScheduleId = (taskQueue: string) => `recertification-${taskQueue}`

const YEAR_MS = 365 * 24 * 3600 * 1000

/**
 * Creates the Temporal Schedule of the recertification sweep unless it exists already: every
 * `every` (a day by default), households scored longer ago than `periodMs` (3 years by default)
 * get a re-verification, `limit` per sweep. Idempotent: every worker start calls it, the first
 * creates it; a sweep still running when the next is due makes the next one skip.
 */
export async function ensureRecertificationSchedule(
  client: Client,
  options: { taskQueue: string; every?: Duration; periodMs?: number; limit?: number },
): Promise<{ scheduleId: string; created: boolean }> {
  const scheduleId = recertificationScheduleId(options.taskQueue)
  const input: RecertificationSweepInput = {
    maxAgeMs: options.periodMs ?? 3 * YEAR_MS,
    limit: options.limit ?? 500,
    taskQueue: options.taskQueue,
  }
  try {
    await client.schedule.create({
      scheduleId,
      spec: { intervals: [{ every: options.every ?? '1 day' }] },
      action: {
        type: 'startWorkflow',
        workflowType: 'recertificationSweepWorkflow',
        workflowId: `recertification-sweep-${options.taskQueue}`,
        taskQueue: options.taskQueue,
        args: [input],
      },
      policies: { overlap: ScheduleOverlapPolicy.SKIP },
    })
    return { scheduleId, created: true }
  } catch (error) {
    if (error instanceof ScheduleAlreadyRunning) return { scheduleId, created: false }
    throw error
  }
}
