// The workflows the worker registers: the entry of Temporal's workflow bundle.
export { grievanceWorkflow } from './kinds/grievance/workflow'
export { retentionWorkflow } from './retention'
export { referralWorkflow } from './kinds/referral/workflow'
export { appealWorkflow } from './kinds/appeal/workflow'
export { reverificationWorkflow } from './kinds/reverification/workflow'
export {
  recertificationSweepWorkflow,
  reverificationCampaignWorkflow,
} from './kinds/reverification/campaign'
