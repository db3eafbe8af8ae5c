import type { Generated } from 'kysely'
import type { DefaultedTimestamp, Json, Timestamp } from './columns'
import type { RoleCode } from './reference.table'

/** The read model of cases: rows, tasks, the append-only audit log, links, contacts, tracking. */

export type CaseKind = 'grievance' | 'reverification' | 'referral' | 'appeal'

export interface CasesTable {
  id: string
  workflowId: string
  kind: CaseKind
  status: Generated<string>
  stage: string
  areaCode: string
  category: string | null
  priority: Generated<string>
  channel: string | null
  sensitive: Generated<boolean>
  slaState: Generated<string>
  ackDueAt: Timestamp | null
  resolveDueAt: Timestamp | null
  escalationLevel: Generated<number>
  parentCaseId: string | null
  householdId: string | null
  openedAt: Timestamp
  closedAt: Timestamp | null
  lastEventSeq: number
  updatedAt: DefaultedTimestamp
  reference: string | null
  satisfaction: string | null
  /** Set by the retention workflow once the closed case's personal data is gone. */
  anonymisedAt: Timestamp | null
}

export interface TasksTable {
  id: string
  caseId: string
  kind: string
  status: 'open' | 'claimed' | 'completed' | 'cancelled'
  candidateRole: RoleCode
  areaCode: string
  assigneeId: string | null
  dueAt: Timestamp | null
  createdAt: Timestamp
  completedAt: Timestamp | null
  completedBy: string | null
  result: Json | null
  lastEventSeq: number
  escalationLevel: number | null
}

export interface CaseEventsTable {
  id: Generated<string>
  caseId: string
  workflowId: string
  seq: number
  type: string
  actorId: string | null
  actorRole: string | null
  occurredAt: Timestamp
  recordedAt: DefaultedTimestamp
  before: Json | null
  after: Json | null
  data: Json | null
}

export interface CaseLinksTable {
  fromCaseId: string
  toCaseId: string
  kind: 'duplicate_of' | 'spawned' | 'appeal_of' | 'related'
  createdAt: DefaultedTimestamp
}

/** Encrypted at rest (field cipher); deleted by the retention workflow. */
export interface ComplainantContactsTable {
  caseId: string
  email: string | null
  phone: string | null
  locale: Generated<string>
}

/** How a complainant follows a grievance: reference + PIN (argon2id hash), failed attempts. */
export interface CaseTrackingTable {
  reference: string
  caseId: string
  pinHash: string
  locale: Generated<string>
  failedAttempts: Generated<number>
  lockedUntil: Date | null
  createdAt: Generated<Date>
}
