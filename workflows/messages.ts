import { defineQuery, defineUpdate } from '@temporalio/workflow'

/**
 * The contract between the API, the worker and the workflows: inputs, messages and error codes.
 * Imported by `api/` (never the other way round), so it holds types and definitions only.
 */

export type CaseKind = 'grievance' | 'reverification' | 'referral' | 'appeal'
export type Channel = 'hotline' | 'sms' | 'web' | 'in_person' | 'community_committee' | 'email'
export type Priority = 'low' | 'normal' | 'high' | 'urgent'
export type CaseStatus = 'open' | 'closed'

/** Who did something: a user id and the role they acted in, or the system itself. */
export interface Actor {
  userId: string | null
  role: string
}
export const SYSTEM_ACTOR: Actor = { userId: null, role: 'system' }

export interface OpenCaseInput {
  caseId: string
  kind: CaseKind
  areaCode: string
  category?: string
  channel?: Channel
  priority: Priority
  sensitive: boolean
  openedBy: Actor
}

/** The live state of a case as a query returns it. Codes only: no personal data. */
export interface CaseSnapshot {
  caseId: string
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

export interface CloseCaseCommand {
  /** A reason code, e.g. `resolved`, `withdrawn`, `duplicate`. */
  reason: string
  actor: Actor
}

/** A state change, as the workflow hands it to the projection activity. */
export interface CaseEvent {
  workflowId: string
  caseId: string
  seq: number
  type: 'case.opened' | 'case.closed'
  actor: Actor
  occurredAt: string
  before: Partial<CaseSnapshot> | null
  after: Partial<CaseSnapshot>
  snapshot: CaseSnapshot
}

export const closeCaseUpdate = defineUpdate<CaseSnapshot, [CloseCaseCommand]>('closeCase')
export const caseSnapshotQuery = defineQuery<CaseSnapshot>('caseSnapshot')

/** Stable codes of refused messages; clients branch on these, never on message text. */
export const ErrorCode = {
  CASE_CLOSED: 'CASE_CLOSED',
  INVALID_COMMAND: 'INVALID_COMMAND',
} as const
export type ErrorCode = (typeof ErrorCode)[keyof typeof ErrorCode]

/** Workflow ids are business ids: `case-<caseId>`, never anything personal. */
export function caseWorkflowId(caseId: string): string {
  return `case-${caseId}`
}
