// The workflows the worker registers: the entry of Temporal's workflow bundle.
export { grievanceWorkflow } from './kinds/grievance/workflow'
export { retentionWorkflow } from './retention'
export { legacyReferralWorkflow as referralWorkflow } from './legacy/referral'
export { legacyAppealWorkflow as appealWorkflow } from './legacy/appeal'
export { legacyReverificationWorkflow as reverificationWorkflow } from './legacy/reverification'
export {
  recertificationSweepWorkflow,
  reverificationCampaignWorkflow,
} from './reverification-campaign'
