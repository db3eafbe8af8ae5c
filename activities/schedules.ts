import type { Client } from '@temporalio/client'
import type { Config } from './config'
import type { Logger } from './infra/logger'
import { ensureRetentionSchedule } from './retention/schedule'
import { ensureRecertificationSchedule } from './reverification-schedule'

const YEAR_MS = 365 * 24 * 3600 * 1000

/**
 * The Temporal Schedules of the task queue, made sure of by every worker as it starts (`npm run
 * worker` and `npm start` alike): the daily retention run and, with RECERTIFICATION_YEARS, the
 * daily recertification sweep. Idempotent: their ids derive from the task queue, the first worker
 * creates each and the others find it there. A schedule that cannot be created is logged, not
 * fatal: cases run without it.
 */
export async function ensureSchedules(
  client: Client,
  config: Pick<Config, 'recertificationYears'> & {
    temporal: Pick<Config['temporal'], 'taskQueue'>
  },
  log: Logger,
): Promise<void> {
  const { taskQueue } = config.temporal
  await ensureRetentionSchedule(client, { taskQueue }).then(
    ({ scheduleId, created }) => log.info({ scheduleId, created }, 'retention schedule'),
    (error: unknown) =>
      log.warn({ err: error }, 'the retention schedule could not be created; create it by hand'),
  )
  if (!config.recertificationYears) return
  await ensureRecertificationSchedule(client, {
    taskQueue,
    periodMs: config.recertificationYears * YEAR_MS,
  }).then(
    ({ scheduleId, created }) => log.info({ scheduleId, created }, 'recertification schedule'),
    (error: unknown) =>
      log.warn({ err: error }, 'the recertification schedule could not be created'),
  )
}
