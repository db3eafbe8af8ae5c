import { proxyActivities } from '@temporalio/workflow'
import type { CaseActivities } from '../../../activities'
import type { CampaignInput, RecertificationSweepInput } from './messages'

// Starting thousands of cases takes minutes: the attempt heartbeats after every batch, so a worker
// lost midway is noticed in seconds and the retry carries on from the lines still pending. The
// lines record their progress, so retries are unbounded.
const { startCampaignLines, startDueRecertifications } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '2 hours',
  heartbeatTimeout: '1 minute',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/**
 * A re-verification campaign (a CSV of households uploaded by a manager): starts one
 * re-verification per valid line, in batches, with ids derived from campaign and household, so
 * that a crash or a second upload of the same file starts nothing twice.
 */
export async function reverificationCampaignWorkflow(
  input: CampaignInput,
): Promise<{ started: number }> {
  return startCampaignLines(input.campaignId)
}

/**
 * The recertification sweep a Temporal Schedule runs (every N, configurable): every household
 * whose last score is older than the recertification period gets a re-verification.
 */
export async function recertificationSweepWorkflow(
  input: RecertificationSweepInput,
): Promise<{ started: number }> {
  return startDueRecertifications(input)
}
