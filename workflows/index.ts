// The workflows the worker registers: the entry of Temporal's workflow bundle.
export { grievanceWorkflow } from './grievance'
