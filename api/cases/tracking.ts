import type { Algorithm } from '@node-rs/argon2'
import type { Generated } from 'kysely'

// Algorithm is a const enum the package does not ship as a value: 2 is Argon2id.
export const ARGON2ID = 2 as Algorithm.Argon2id

/** A grievance's public reference and the hash of its tracking PIN. */
export interface TrackingTable {
  reference: string
  caseId: string
  pinHash: string
  locale: string
  failedAttempts: Generated<number>
  lockedUntil: Date | null
  createdAt: Generated<Date>
}
