import { continueAsNew, proxyActivities } from '@temporalio/workflow'
import type { CaseActivities } from '../activities'

export interface RetentionInput {
  /** Cases per activity call: each call commits case by case and heartbeats. */
  batchSize?: number
  /** Cases anonymised by earlier runs of this execution (continue-as-new). */
  anonymisedBefore?: number
}

// Anonymising deletes data: retried until it succeeds (PostgreSQL or Temporal may be down), and
// every attempt resumes where the last one stopped, since each case commits on its own.
const { anonymiseExpiredCases } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '10 minutes',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '5 seconds', backoffCoefficient: 2, maximumInterval: '5 minutes' },
})

/** Batches per run before continuing as new, so that the history stays small. */
const BATCHES_PER_RUN = 100

/**
 * Retention: closed cases whose retention period (`app_settings.retention`) has run out are
 * anonymised, batch after batch, until none is left; each anonymisation is audited as a
 * `case.anonymised` event. Started by a Temporal Schedule (`ensureRetentionSchedule`).
 */
export async function retentionWorkflow(
  input: RetentionInput = {},
): Promise<{ anonymised: number }> {
  const batchSize = input.batchSize ?? 50
  let anonymised = input.anonymisedBefore ?? 0
  for (let batch = 0; batch < BATCHES_PER_RUN; batch++) {
    const result = await anonymiseExpiredCases({ batchSize })
    anonymised += result.anonymised
    if (!result.more) return { anonymised }
  }
  return continueAsNew<typeof retentionWorkflow>({ batchSize, anonymisedBefore: anonymised })
}
