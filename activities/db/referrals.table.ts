import type { Generated } from 'kysely'
import type { Json, OptionalText, Timestamp } from './columns'

/** Partners, their services and referrals to them (migrations 000100 and 001100). */

export interface PartnersTable {
  code: string
  name: string
  kind: 'government' | 'un_agency' | 'ngo' | 'health' | 'other'
  contactEmail: string | null
  active: Generated<boolean>
  webhookUrl: OptionalText
  /** Encrypted at rest with the field cipher. */
  webhookSecret: OptionalText
}

export interface PartnerServicesTable {
  partnerCode: string
  serviceCode: string
  areaCode: string
  /** Routing order among the partners covering a service in an area: lowest first. */
  priority: Generated<number>
}

export interface ReferralsTable {
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

/** A partner's webhook, delivered once per event key. */
export interface WebhookDeliveriesTable {
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
