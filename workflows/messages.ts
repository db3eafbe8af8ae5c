import { defineQuery, defineUpdate } from '@temporalio/workflow'
import type { ProjectedCaseRow, ProjectedTaskRow } from '../activities/case-projection'
import type { ReferralRow } from '../activities/referrals/activities'
import type { BusinessCalendar } from './kernel/calendar'
import type { SlaClockEvent, SlaStatus } from './kernel/sla'
import type { HumanTask } from './kernel/tasks'

/**
 * The contract between the API, the worker and the workflows: inputs, messages and error codes.
 * Imported by `api/` (never the other way round), so it holds types and definitions only.
 */

/** The case kinds, priorities and pause reasons: defined here once, read by the API. */
export const CASE_KINDS = ['grievance', 'reverification', 'referral', 'appeal'] as const
export type CaseKind = (typeof CASE_KINDS)[number]
export const CHANNELS = [
  'hotline',
  'sms',
  'web',
  'in_person',
  'community_committee',
  'email',
] as const
export type Channel = (typeof CHANNELS)[number]
export const PRIORITIES = ['low', 'normal', 'high', 'urgent'] as const
export type Priority = (typeof PRIORITIES)[number]
export const PAUSE_REASONS = [
  'waiting_complainant',
  'waiting_partner',
  'access_impossible',
  'other',
] as const
export type PauseReason = (typeof PAUSE_REASONS)[number]
export type CaseStatus = 'open' | 'closed'
export type RoleCode =
  'case_worker' | 'supervisor' | 'programme_manager' | 'administrator' | 'partner'
export type Locale = 'fr' | 'en'

/** Who did something: a user id and the role they acted in, or the system / the public. */
export interface Actor {
  userId: string | null
  role: RoleCode | 'system' | 'public'
  /** Designated focal point for sensitive cases. */
  clearance?: boolean
}
export const SYSTEM_ACTOR: Actor = { userId: null, role: 'system' }

/** Targets in working milliseconds by stage, and the rest of the policy in force at opening. */
export interface PolicySnapshot {
  policyId: number | null
  targets: {
    acknowledge: number
    triage: number
    investigation: number
    approval: number
    resolve: number
    /** After a breach, the next level is alerted if the case is still unresolved this much later. */
    escalationRepeat: number
    /** Wall-clock time the complainant has to appeal once the outcome is communicated. */
    appealWindow: number
  }
  atRiskRatio: number
  calendar: BusinessCalendar
}

/** What the workflow needs from reference data when a case opens, snapshotted into its state. */
export interface CaseContext {
  policy: PolicySnapshot
  /** The case's area and its ancestors: [commune, cercle, region, national]. */
  areaPath: string[]
  /** Categories flagged sensitive (routed to focal points only). */
  sensitiveCategories: string[]
  /** History length after which the case continues as new (operators may lower it). */
  historyLimit?: number
}

export interface OpenCaseInput {
  caseId: string
  /** The public reference given to the complainant (with a PIN that the workflow never sees). */
  reference?: string
  kind: CaseKind
  areaCode: string
  category?: string
  channel?: Channel
  priority: Priority
  sensitive: boolean
  openedBy: Actor
  /** Free text of the complaint: only in the (encrypted) history, never projected or logged. */
  narrative?: string
  /** How to reach the complainant; stored apart from the case and never put in the state. */
  contact?: { email?: string; phone?: string; locale: Locale }
  anonymous?: boolean
}

/** Reopening a closed case starts a new run of the same workflow id from its last state. */
export interface ReopenInput {
  reopen: { state: GrievanceState; actor: Actor; reason: string }
}

/** A grievance continued as new carries its whole state; a reopened one, its closed state. */
export type GrievanceInput = OpenCaseInput | { resume: GrievanceState } | ReopenInput

export type GrievanceStage =
  'uptake' | 'triage' | 'investigation' | 'approval' | 'outcome' | 'appeal_window' | 'closed'

export interface Resolution {
  proposedResolution: string
  changesEligibilityOrPayment: boolean
  proposedBy: string | null
  approved: boolean | null
}

/** The live state of a case as a query returns it. Codes only: no narrative, no contact. */
export interface CaseSnapshot {
  caseId: string
  reference?: string
  kind: CaseKind
  status: CaseStatus
  stage: string
  areaCode: string
  category?: string
  channel?: Channel
  priority: Priority
  sensitive: boolean
  openedAt: string
  closedAt?: string
  closeReason?: string
  /** Sequence number of the last event; the projection's idempotency key with the workflow id. */
  seq: number
}

export interface GrievanceState extends CaseSnapshot {
  stage: GrievanceStage
  context: CaseContext
  tasks: HumanTask[]
  nextTaskNo: number
  /** The resolve clock's events: the SLA state is recomputable from them alone. */
  clock: SlaClockEvent[]
  escalationLevel: number
  /** Keys of reminders and escalations already sent, so none is sent twice. */
  alerted: string[]
  resolution?: Resolution
  satisfaction?: Satisfaction
  duplicateOf?: string
  appealWindowEndsAt?: string
  /** Notes by staff: free text, kept only in the (encrypted) history and the live state. */
  notes?: CaseNote[]
  /** Cases linked to this one (related, spawned, appeal of…). */
  links?: { toCaseId: string; kind: CaseLinkKind }[]
}

export type CaseLinkKind = 'related' | 'spawned' | 'appeal_of'
export interface CaseNote {
  no: number
  by: string | null
  role: string
  at: string
  text: string
}

export type Satisfaction = 'satisfied' | 'partly_satisfied' | 'not_satisfied' | 'not_reached'

/** The query's answer: the state plus the SLA status computed at query time. */
export interface GrievanceView extends GrievanceState {
  sla: SlaStatus
}

export interface CloseCaseCommand {
  /** A reason code, e.g. `resolved`, `withdrawn`, `duplicate`. */
  reason: string
  actor: Actor
}

export interface ClaimTaskCommand {
  taskId: string
  actor: Actor
}
export interface ReassignTaskCommand {
  taskId: string
  assigneeId: string
  actor: Actor
}
export interface CompleteTaskCommand {
  taskId: string
  actor: Actor
  /** The task's form, validated against its schema (workflows/forms.ts). */
  data: Record<string, unknown>
}
export interface PauseSlaCommand {
  reason: PauseReason
  actor: Actor
}
export interface ResumeSlaCommand {
  actor: Actor
}
export interface ExtendSlaCommand {
  /** Working milliseconds added to the resolve target. */
  byMs: number
  reason: string
  actor: Actor
}
export interface WithdrawCommand {
  actor: Actor
  reason: string
}
export interface MarkDuplicateCommand {
  actor: Actor
  duplicateOf: string
}
export interface SatisfactionCommand {
  actor: Actor
  satisfaction: Satisfaction
}

/** A notification the projection turns into outbox rows (recipients resolved there). */
export interface NotificationIntent {
  template:
    'new_task' | 'task_reminder' | 'escalation' | 'acknowledgement' | 'outcome' | 'appeal_decision'
  to: { userId: string } | { complainant: true }
  params: { taskKind?: string; dueAt?: string; level?: string }
}

/** A task row as projected into `tasks`: codes only (free text stays in the history). */
export interface TaskProjection {
  id: string
  kind: string
  status: HumanTask['status']
  candidateRole: RoleCode
  areaCode: string
  assigneeId: string | null
  dueAt: string | null
  createdAt: string
  completedAt: string | null
  completedBy: string | null
  result: Record<string, unknown> | null
  escalationLevel: number | null
}

/** A state change, as the workflow hands it to the projection activity. */
export interface CaseEvent {
  workflowId: string
  caseId: string
  seq: number
  type: string
  actor: Actor
  occurredAt: string
  before: Record<string, unknown> | null
  after: Record<string, unknown>
  /** Extra facts of the event (SLA clock events, policy snapshot…), kept in the audit log. */
  data?: Record<string, unknown>
  snapshot: CaseSnapshot & {
    slaState?: string
    ackDueAt?: string | null
    resolveDueAt?: string | null
    escalationLevel?: number
    satisfaction?: string | null
    /** The household a re-verification (or referral) is about. */
    householdId?: string
    /** The case that spawned this one (a grievance spawning a re-verification). */
    parentCaseId?: string
  }
  tasks?: TaskProjection[]
  notify?: NotificationIntent[]
  /** Only on `case.opened`: stored in `complainant_contacts`, never in the case row. */
  contact?: { email?: string; phone?: string; locale: Locale }
  /** Only on opening: the case reaches the complainant of this (parent or contested) case. */
  copyContactFrom?: string
  links?: {
    /** The link's origin when it is not this case (a spawned case records its parent's link). */
    fromCaseId?: string
    toCaseId: string
    kind: 'duplicate_of' | 'spawned' | 'appeal_of' | 'related'
  }[]
}

/** One event for the kernel's batch projection, with the kind's own row when it has one. */
export interface ProjectionItem {
  event: CaseEvent
  referral?: ReferralRow
}

/** The rows a command's projection wrote: what the API answers with (no query, no polling). */
export interface ProjectedRows {
  seq: number
  case: ProjectedCaseRow | null
  tasks: ProjectedTaskRow[]
}

/**
 * An Update's answer: its result, with the rows projected by the command. Cases opened before the
 * kernel (legacy runs) answer without `projected`.
 */
export type Answered<T> = T & { projected?: ProjectedRows }

export const closeCaseUpdate = defineUpdate<Answered<CaseSnapshot>, [CloseCaseCommand]>('closeCase')
export const caseSnapshotQuery = defineQuery<CaseSnapshot>('caseSnapshot')

export const grievanceViewQuery = defineQuery<GrievanceView>('grievanceView')

/**
 * Marks a run on the case kernel (one projection per command, notifications outside the case):
 * runs without it were started before the kernel and keep the command sequence they recorded.
 */
export const KERNEL_PATCH = 'case-kernel'

/** The live state of a case of any kind, with its SLA status at query time (null: no clock). */
export type CaseView = CaseSnapshot & {
  sla: SlaStatus | null
  tasks: HumanTask[]
  escalationLevel?: number
  notes?: { no?: number; by: string | null; role?: string; at: string; text: string }[]
  links?: { toCaseId: string; kind: string }[]
} & Partial<
    Pick<GrievanceState, 'resolution' | 'satisfaction' | 'duplicateOf' | 'appealWindowEndsAt'>
  >
export const caseViewQuery = defineQuery<CaseView>('caseView')
export const claimTaskUpdate = defineUpdate<Answered<HumanTask>, [ClaimTaskCommand]>('claimTask')
export const unclaimTaskUpdate = defineUpdate<Answered<HumanTask>, [ClaimTaskCommand]>(
  'unclaimTask',
)
export const reassignTaskUpdate = defineUpdate<Answered<HumanTask>, [ReassignTaskCommand]>(
  'reassignTask',
)
export const completeTaskUpdate = defineUpdate<Answered<HumanTask>, [CompleteTaskCommand]>(
  'completeTask',
)
export const pauseSlaUpdate = defineUpdate<Answered<SlaStatus>, [PauseSlaCommand]>('pauseSla')
export const resumeSlaUpdate = defineUpdate<Answered<SlaStatus>, [ResumeSlaCommand]>('resumeSla')
export const extendSlaUpdate = defineUpdate<Answered<SlaStatus>, [ExtendSlaCommand]>('extendSla')
export const withdrawUpdate = defineUpdate<Answered<CaseSnapshot>, [WithdrawCommand]>('withdraw')
export const markDuplicateUpdate = defineUpdate<Answered<CaseSnapshot>, [MarkDuplicateCommand]>(
  'markDuplicate',
)
export interface AddNoteCommand {
  actor: Actor
  text: string
}
export interface LinkCaseCommand {
  actor: Actor
  toCaseId: string
  kind: CaseLinkKind
}
export const addNoteUpdate = defineUpdate<Answered<CaseNote>, [AddNoteCommand]>('addNote')
export const linkCaseUpdate = defineUpdate<Answered<CaseSnapshot>, [LinkCaseCommand]>('linkCase')

export const recordSatisfactionUpdate = defineUpdate<Answered<CaseSnapshot>, [SatisfactionCommand]>(
  'recordSatisfaction',
)

/**
 * Answers once the case's opening is projected: the intake's Update-with-Start, so that a new
 * case costs one workflow task and its row exists when the API answers.
 */
export const caseOpenedUpdate = defineUpdate<Answered<CaseSnapshot>, []>('caseOpened')

/** Stable codes of refused messages; clients branch on these, never on message text. */
export const ErrorCode = {
  CASE_CLOSED: 'CASE_CLOSED',
  INVALID_COMMAND: 'INVALID_COMMAND',
  TASK_NOT_FOUND: 'TASK_NOT_FOUND',
  TASK_ALREADY_COMPLETED: 'TASK_ALREADY_COMPLETED',
  TASK_CANCELLED: 'TASK_CANCELLED',
  TASK_ASSIGNED_TO_OTHER: 'TASK_ASSIGNED_TO_OTHER',
  TASK_ALREADY_CLAIMED: 'TASK_ALREADY_CLAIMED',
  NOT_ALLOWED: 'NOT_ALLOWED',
  INVALID_FORM: 'INVALID_FORM',
  FOUR_EYES: 'FOUR_EYES',
  ALREADY_DECIDED: 'ALREADY_DECIDED',
  SLA_ALREADY_PAUSED: 'SLA_ALREADY_PAUSED',
  SLA_NOT_PAUSED: 'SLA_NOT_PAUSED',
  SLA_STOPPED: 'SLA_STOPPED',
  SLA_INVALID_EXTENSION: 'SLA_INVALID_EXTENSION',
  WRONG_STAGE: 'WRONG_STAGE',
  CASE_NOT_CLOSED: 'CASE_NOT_CLOSED',
  CASE_NOT_FOUND: 'CASE_NOT_FOUND',
  /** A referral command from a partner the referral is not routed to. */
  REFERRAL_NOT_ROUTED_TO_YOU: 'REFERRAL_NOT_ROUTED_TO_YOU',
  /** An appeal reviewed or decided by someone who decided the contested case. */
  REVIEWER_NOT_INDEPENDENT: 'REVIEWER_NOT_INDEPENDENT',
  APPEAL_WINDOW_CLOSED: 'APPEAL_WINDOW_CLOSED',
  CONSENT_REQUIRED: 'CONSENT_REQUIRED',
  CONSENT_OVERRIDE_NOT_ALLOWED: 'CONSENT_OVERRIDE_NOT_ALLOWED',
  /** A command this kind of case does not take (e.g. a grievance-only command on a referral). */
  ACTION_NOT_SUPPORTED: 'ACTION_NOT_SUPPORTED',
  /** A command without a valid, fresh, unused proof that the API issued it (forged or replayed). */
  COMMAND_NOT_AUTHENTICATED: 'COMMAND_NOT_AUTHENTICATED',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Workflow ids are business ids: `case-<caseId>`, never anything personal. */
export function caseWorkflowId(caseId: string): string {
  return `case-${caseId}`
}
