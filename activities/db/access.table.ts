import type { Generated } from 'kysely'

/**
 * What the API keeps about access: idempotent answers, the access audit, break-glass grants
 * (migrations 2026_11_29_000600, 000800, 000900, 2026_12_04_002300).
 */

export interface IdempotencyKeysTable {
  userId: string
  key: string
  method: string
  path: string
  requestHash: string
  status: number | null
  response: unknown
  createdAt: Generated<Date>
  completedAt: Date | null
}

export type AuditAction =
  | 'read'
  | 'list'
  | 'denied'
  | 'not_found'
  | 'export'
  | 'break_glass'
  | 'break_glass_requested'
  | 'break_glass_approved'
  | 'break_glass_rejected'

/** Append-only: every read of a sensitive case, every denial, every export. */
export interface AccessAuditTable {
  id: Generated<string>
  userId: string
  caseId: string | null
  taskId: string | null
  action: AuditAction
  role: string | null
  at: Generated<Date>
  /** Rows of an export. */
  rowCount: number | null
  exportKind: 'cases' | 'report' | null
}

/** Time-limited, justified access outside one's scope. */
export interface BreakGlassGrantsTable {
  id: Generated<string>
  userId: string
  caseId: string
  reason: string
  grantedAt: Generated<Date>
  expiresAt: Date
  /** The approved request behind a grant on a sensitive case without clearance. */
  requestId: string | null
  /** The second person who approved that request. */
  approvedBy: string | null
}

/** A request to break the glass on a sensitive case, waiting for a second person (four eyes). */
export interface BreakGlassRequestsTable {
  id: Generated<string>
  userId: string
  caseId: string
  reason: string
  status: Generated<'pending' | 'approved' | 'rejected'>
  requestedAt: Generated<Date>
  decidedBy: string | null
  decidedAt: Date | null
}
