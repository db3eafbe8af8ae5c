import {
  condition,
  proxyActivities,
  setHandler,
  upsertSearchAttributes,
  workflowInfo,
} from '@temporalio/workflow'
import type { CaseActivities } from '../activities'
import { closeCase, openCase, validateClose } from './kernel/case-state'
import { caseSnapshotQuery, closeCaseUpdate, type OpenCaseInput } from './messages'
import { CaseAreaKey, CaseKindKey, CasePriorityKey, CaseStageKey } from './search-attributes'

// Projections must land eventually, whatever the outage: PostgreSQL down for an hour delays the
// read model, never loses the event. Retries are unbounded with a capped backoff.
const { projectCaseEvent } = proxyActivities<CaseActivities>({
  startToCloseTimeout: '30 seconds',
  retry: { initialInterval: '1 second', backoffCoefficient: 2, maximumInterval: '1 minute' },
})

/**
 * A grievance case: opened at uptake and projected into `cases` and `case_events`, closed by a
 * `closeCase` Update. Triage, tasks and the SLA clock come with the case kernel.
 */
export async function grievanceWorkflow(input: OpenCaseInput): Promise<void> {
  const { workflowId } = workflowInfo()
  const opened = openCase(input, workflowId, new Date())
  let state = opened.state
  let projecting: Promise<void> = projectCaseEvent(opened.event)

  // Handlers are registered before the first await: messages may already be waiting.
  setHandler(caseSnapshotQuery, () => state)
  setHandler(
    closeCaseUpdate,
    async (command) => {
      const closed = closeCase(state, command, workflowId, new Date())
      state = closed.state
      // Events are projected in order: wait for the previous one before writing this one.
      projecting = projecting.then(() => projectCaseEvent(closed.event))
      await projecting
      upsertSearchAttributes([{ key: CaseStageKey, value: state.stage }])
      return state
    },
    { validator: (command) => validateClose(state, command) },
  )

  upsertSearchAttributes([
    { key: CaseKindKey, value: input.kind },
    { key: CaseAreaKey, value: input.areaCode },
    { key: CasePriorityKey, value: input.priority },
    { key: CaseStageKey, value: state.stage },
  ])
  await projecting
  await condition(() => state.status === 'closed')
  await projecting
}
