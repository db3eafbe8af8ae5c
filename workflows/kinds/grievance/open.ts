import type { SlaClockEvent } from '../../kernel/sla'
import type {
  CaseContext,
  GrievanceState,
  NotificationIntent,
  OpenCaseInput,
  ReopenInput,
} from '../../messages'

/** A new grievance's state (pure): the policy in force snapshotted, the resolve clock started. */
export function openedState(opening: OpenCaseInput, context: CaseContext, at: string) {
  const sensitive =
    opening.sensitive ||
    (opening.category ? context.sensitiveCategories.includes(opening.category) : false)
  const started: SlaClockEvent = { type: 'started', at, targetMs: context.policy.targets.resolve }
  const state: GrievanceState = {
    caseId: opening.caseId,
    reference: opening.reference,
    kind: opening.kind,
    status: 'open',
    stage: 'uptake',
    areaCode: opening.areaCode,
    category: opening.category,
    channel: opening.channel,
    priority: opening.priority,
    sensitive,
    openedAt: at,
    seq: 0,
    context,
    tasks: [],
    nextTaskNo: 1,
    clock: [started],
    escalationLevel: 0,
    alerted: [],
  }
  // The acknowledgement (the reference, by email when there is an address) is immediate.
  const notify: NotificationIntent[] = opening.contact?.email
    ? [{ template: 'acknowledgement', to: { complainant: true }, params: {} }]
    : []
  return { state, started, notify }
}

/** A closed grievance reopened: back to investigation with a fresh resolve clock. */
export function reopenedState(input: ReopenInput['reopen'], at: string) {
  const previous = input.state
  const started: SlaClockEvent = {
    type: 'started',
    at,
    targetMs: previous.context.policy.targets.resolve,
  }
  const state: GrievanceState = {
    ...previous,
    status: 'open',
    stage: 'investigation',
    closedAt: undefined,
    closeReason: undefined,
    appealWindowEndsAt: undefined,
    satisfaction: undefined,
    clock: [started],
    escalationLevel: 0,
    alerted: [],
  }
  return { state, started }
}
