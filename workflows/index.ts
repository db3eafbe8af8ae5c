// The workflows the worker registers: the entry of Temporal's workflow bundle.
export { grievanceWorkflow } from './grievance'
export { retentionWorkflow } from './retention'
export { referralWorkflow } from './referral'
export { appealWorkflow } from './appeal'
export { reverificationWorkflow } from './reverification'
export {
  recertificationSweepWorkflow,
  reverificationCampaignWorkflow,
} from './reverification-campaign'
