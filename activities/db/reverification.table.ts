import type { ColumnType, Generated } from 'kysely'
import type { DefaultedTimestamp, Json, Timestamp } from './columns'

/** Households, scores, registry writes and re-verification campaigns. */

export interface HouseholdsTable {
  id: string
  areaCode: string
  members: number
  pmtScore: ColumnType<string | null, number | string | null, number | string | null>
  programmes: Generated<string[]>
  fetchedAt: DefaultedTimestamp
  /** Eligibility as last written to the registry (null: never re-verified here). */
  eligible: ColumnType<boolean | null, boolean | null | undefined, boolean | null>
  /** The PMT formula version that gave `pmtScore`. */
  pmtFormulaVersion: ColumnType<string | null, string | null | undefined, string | null>
}

/** A proxy-means-test formula: score = intercept + Σ weight × variable; eligible at ≤ threshold. */
export interface PmtFormulasTable {
  version: string
  coefficients: ColumnType<
    { intercept: number; weights: Record<string, number> },
    { intercept: number; weights: Record<string, number> },
    { intercept: number; weights: Record<string, number> }
  >
  threshold: ColumnType<string, number | string, number | string>
  active: Generated<boolean>
  createdAt: DefaultedTimestamp
}

export interface HouseholdScoresTable {
  caseId: string
  visitNo: number
  householdId: string
  score: ColumnType<string, number | string, number | string>
  formulaVersion: string
  eligible: boolean
  scoredAt: Timestamp
}

/** Writes to the registry, recorded before the call and completed after it (idempotency). */
export interface RegistryWritesTable {
  idempotencyKey: string
  caseId: string
  householdId: string
  payload: Json
  status: Generated<'pending' | 'sent' | 'rejected'>
  attempts: Generated<number>
  lastError: string | null
  response: Json | null
  createdAt: DefaultedTimestamp
  sentAt: Timestamp | null
}

export interface CampaignsTable {
  id: string
  contentHash: string
  name: string
  createdBy: string | null
  taskQueue: string
  status: Generated<'starting' | 'started'>
  createdAt: DefaultedTimestamp
  finishedAt: Timestamp | null
}

export interface CampaignLinesTable {
  campaignId: string
  lineNo: number
  householdId: string | null
  areaCode: string | null
  caseId: string | null
  status: 'pending' | 'started' | 'failed'
  errorCode: string | null
  errorMessage: string | null
}
