import type { z } from 'zod'
import type { CaseSchema } from '../../api/routes/cases'
import type { TaskSchema } from '../../api/routes/tasks'
import type { RoleCode } from '../../workflows/messages'

/** Record types of the console, derived from the API's schemas (never hand-copied). */
export type Task = z.infer<typeof TaskSchema>
export type Case = z.infer<typeof CaseSchema>
export type { RoleCode }

/** One row of `GET /api/reports/cases` (counts below the threshold are null). */
export interface ReportRow {
  key: string | null
  label: string | null
  cases: number | null
  open: number | null
  closed: number | null
  resolvedOnTime: number | null
  breached: number | null
  escalated: number | null
  medianDaysToClosure: number | null
  suppressed: boolean
}

export interface Report {
  groupBy: string
  minCell: number
  rows: ReportRow[]
}

/** The signed-in user as `/api/auth/me` answers. */
export interface Me {
  id: string
  username: string
  displayName: string
  locale: 'fr' | 'en'
  clearance: boolean
  roles: { role: RoleCode; areaCode: string }[]
}

/** An event of a case's audit trail (`timeline` of `GET /api/cases/{id}`). */
export interface CaseEvent {
  id: string
  seq: number
  type: string
  actorId: string | null
  actorRole: string | null
  occurredAt: string
  before: unknown
  after: unknown
  clock?: unknown
}

/** A human task as the workflow holds it (the `live.tasks` of a case). */
export interface LiveTask {
  id: string
  kind: string
  status: string
  candidateRole: string
  areaCode: string
  assigneeId: string | null
  dueAt: string | null
  sentBackReason?: string
}

/** The SLA clock of a case, live from its workflow. */
export interface SlaClock {
  state: string
  targetMs: number
  elapsedMs: number
  remainingMs: number
  dueAt: string | null
  atRiskAt: string | null
  paused: boolean
  pauseReason?: string
  breachedAt: string | null
}

/** `GET /api/cases/{id}`: the row, the live state (null when the workflow cannot answer), the timeline. */
export type CaseDetail = Case & {
  live: {
    status: string
    stage: string
    sla: SlaClock
    escalationLevel: number
    tasks: LiveTask[]
    notes?: { no: number; by: string | null; role: string; at: string; text: string }[]
    links?: { toCaseId: string; kind: string }[]
  } | null
  /** Absent while the page shows the row a list already holds, before the detail arrives. */
  timeline?: CaseEvent[]
  /** The linked cases the user may see (this one included) and the links between them. */
  chain?: {
    cases: { id: string; kind: string; reference: string | null; status: string; stage: string }[]
    links: { fromCaseId: string; toCaseId: string; kind: string }[]
  }
}
