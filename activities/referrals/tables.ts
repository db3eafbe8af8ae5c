import type { ColumnType, Generated } from 'kysely'
import type { Db } from '../db/db'

type Timestamp = ColumnType<Date, Date | string, Date | string>
type Json = ColumnType<unknown, object, object>

/**
 * Tables and columns of migration 2026_11_29_001100 (referrals, appeals), typed here so that the
 * shared schema stays untouched; `referralDb(db)` adds them to the application's database.
 */
export type ReferralTables = {
  referrals: {
    caseId: string
    sourceCaseId: string | null
    serviceCode: string
    partnerCode: string | null
    partnerStatus:
      'awaiting_response' | 'accepted' | 'delivered' | 'not_delivered' | 'unrouted' | 'closed'
    householdId: string | null
    leg: string | null
    dueAt: Timestamp | null
    atRiskAt: Timestamp | null
    consent: Json
    partnersTried: string[]
    createdAt: Timestamp
    lastEventSeq: number
  }
  webhookDeliveries: {
    key: string
    partnerCode: string
    caseId: string
    eventType: string
    status: Generated<'pending' | 'delivered' | 'failed'>
    attempts: Generated<number>
    lastStatus: number | null
    createdAt: Generated<Date>
    deliveredAt: Timestamp | null
  }
  users: {
    /** The partner organisation a partner user (or a partner system's account) acts for. */
    partnerCode: ColumnType<string | null, string | null | undefined, string | null>
    canOverrideConsent: Generated<boolean>
  }
  partnerServices: { priority: Generated<number> }
  partners: {
    webhookUrl: ColumnType<string | null, string | null | undefined, string | null>
    /** Encrypted at rest with the field cipher. */
    webhookSecret: ColumnType<string | null, string | null | undefined, string | null>
  }
}

export const referralDb = (db: Db) => db.withTables<ReferralTables>()
export type ReferralDb = ReturnType<typeof referralDb>
