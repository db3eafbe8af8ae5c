import { grievanceWorkflow } from '../../workflows/kinds/grievance/workflow'
import {
  WorkflowExecutionAlreadyStartedError,
  WorkflowNotFoundError,
  type Client,
} from '@temporalio/client'
import {
  caseWorkflowId,
  ErrorCode,
  grievanceViewQuery,
  type Actor,
  type GrievanceInput,
} from '../../workflows/messages'

/** A refused command, with the same stable codes as the workflow's refusals. */
export class CommandRefused extends Error {
  constructor(
    readonly code: ErrorCode,
    message: string,
  ) {
    super(message)
  }
}

/**
 * Reopens a closed grievance: a supervisor's decision with a reason. The case's workflow id is
 * its business id, so a new run of that id starts from the closed run's last state; a second
 * reopen racing with the first is refused by Temporal itself (one running execution per id).
 */
export async function reopenCase(
  client: Client,
  options: { caseId: string; taskQueue: string; actor: Actor; reason: string },
): Promise<{ runId: string }> {
  if (options.actor.role !== 'supervisor') {
    throw new CommandRefused(ErrorCode.NOT_ALLOWED, 'only a supervisor reopens a case')
  }
  if (options.reason.trim().length < 3) {
    throw new CommandRefused(ErrorCode.INVALID_COMMAND, 'reopening needs a reason')
  }
  const workflowId = caseWorkflowId(options.caseId)
  const handle = client.workflow.getHandle(workflowId)
  let running: boolean
  try {
    running = (await handle.describe()).status.name === 'RUNNING'
  } catch (error) {
    if (error instanceof WorkflowNotFoundError) {
      throw new CommandRefused(ErrorCode.CASE_NOT_FOUND, `no case ${options.caseId}`)
    }
    throw error
  }
  const state = running ? undefined : await handle.query(grievanceViewQuery)
  if (!state || state.status !== 'closed') {
    throw new CommandRefused(ErrorCode.CASE_NOT_CLOSED, `case ${options.caseId} is not closed`)
  }
  // The view carries the SLA status computed at query time; the state is the rest.
  const closed: Omit<typeof state, 'sla'> & { sla?: unknown } = { ...state }
  delete closed.sla
  const input: GrievanceInput = {
    reopen: { state: closed, actor: options.actor, reason: options.reason.trim() },
  }
  try {
    const started = await client.workflow.start(grievanceWorkflow, {
      workflowId,
      taskQueue: options.taskQueue,
      args: [input],
      workflowIdReusePolicy: 'ALLOW_DUPLICATE',
    })
    return { runId: started.firstExecutionRunId }
  } catch (error) {
    if (error instanceof WorkflowExecutionAlreadyStartedError) {
      throw new CommandRefused(
        ErrorCode.CASE_NOT_CLOSED,
        `case ${options.caseId} was reopened already`,
      )
    }
    throw error
  }
}
