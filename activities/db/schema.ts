import type { ColumnType, Generated, Insertable, Selectable, Updateable } from 'kysely'

/** The database as the application sees it: camelCase here, snake_case in SQL (CamelCasePlugin). */
export interface Database {
  appSettings: AppSettingsTable
  roles: RolesTable
  adminAreas: AdminAreasTable
  users: UsersTable
  userRoles: UserRolesTable
  partners: PartnersTable
  services: ServicesTable
  partnerServices: PartnerServicesTable
  households: HouseholdsTable
  cases: CasesTable
  tasks: TasksTable
  caseEvents: CaseEventsTable
  notificationOutbox: NotificationOutboxTable
  categories: CategoriesTable
  slaPolicies: SlaPoliciesTable
  holidays: HolidaysTable
  complainantContacts: ComplainantContactsTable
  caseLinks: CaseLinksTable
  pmtFormulas: PmtFormulasTable
  householdScores: HouseholdScoresTable
  registryWrites: RegistryWritesTable
  campaigns: CampaignsTable
  campaignLines: CampaignLinesTable
}

type Timestamp = ColumnType<Date, Date | string, Date | string>
type DefaultedTimestamp = ColumnType<Date, Date | string | undefined, Date | string>
/** jsonb: postgres.js serialises objects itself, so values are passed as objects, not strings. */
type Json = ColumnType<unknown, object, object>

export type RoleCode =
  'case_worker' | 'supervisor' | 'programme_manager' | 'administrator' | 'partner'
export type AreaLevel = 'national' | 'region' | 'cercle' | 'commune' | 'village'
export type CaseKind = 'grievance' | 'reverification' | 'referral' | 'appeal'

export interface AppSettingsTable {
  key: string
  value: Json
  updatedAt: DefaultedTimestamp
}

export interface RolesTable {
  code: RoleCode
  labelFr: string
  labelEn: string
}

export interface AdminAreasTable {
  code: string
  parentCode: string | null
  level: AreaLevel
  name: string
}

export interface UsersTable {
  id: Generated<string>
  username: string
  displayName: string
  email: string | null
  passwordHash: string | null
  locale: Generated<'fr' | 'en'>
  languages: Generated<string[]>
  sensitiveClearance: Generated<boolean>
  onLeave: Generated<boolean>
  active: Generated<boolean>
  totpSecret: string | null
  createdAt: DefaultedTimestamp
}

export interface UserRolesTable {
  userId: string
  roleCode: RoleCode
  areaCode: string
}

export interface PartnersTable {
  code: string
  name: string
  kind: 'government' | 'un_agency' | 'ngo' | 'health' | 'other'
  contactEmail: string | null
  active: Generated<boolean>
}

export interface ServicesTable {
  code: string
  labelFr: string
  labelEn: string
}

export interface PartnerServicesTable {
  partnerCode: string
  serviceCode: string
  areaCode: string
}

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

export interface NotificationOutboxTable {
  id: Generated<string>
  dedupeKey: string
  caseId: string | null
  template: string
  locale: Generated<string>
  channel: Generated<string>
  recipient: string
  params: ColumnType<unknown, object | undefined, object>
  status: Generated<'pending' | 'sending' | 'sent' | 'failed'>
  attempts: Generated<number>
  lastError: string | null
  messageId: string | null
  createdAt: DefaultedTimestamp
  nextAttemptAt: DefaultedTimestamp
  sentAt: Timestamp | null
}

export interface CategoriesTable {
  code: string
  caseKind: Generated<string>
  labelFr: string
  labelEn: string
  sensitive: Generated<boolean>
  active: Generated<boolean>
}

/** Targets in working seconds, by stage name (acknowledge, triage, investigation, approval, …). */
export interface SlaPoliciesTable {
  id: Generated<number>
  caseKind: CaseKind
  category: string | null
  priority: string | null
  targets: ColumnType<Record<string, number>, Record<string, number>, Record<string, number>>
  atRiskRatio: ColumnType<string, number | string | undefined, number | string>
  active: Generated<boolean>
  updatedAt: DefaultedTimestamp
}

export interface HolidaysTable {
  date: ColumnType<string, string, string>
  nameFr: string
  nameEn: string
  lunar: Generated<boolean>
}

export interface ComplainantContactsTable {
  caseId: string
  email: string | null
  phone: string | null
  locale: Generated<string>
}

export interface CaseLinksTable {
  fromCaseId: string
  toCaseId: string
  kind: 'duplicate_of' | 'spawned' | 'appeal_of' | 'related'
  createdAt: DefaultedTimestamp
}

export type CaseRow = Selectable<CasesTable>
export type NewCase = Insertable<CasesTable>
export type CaseUpdate = Updateable<CasesTable>
export type CaseEventRow = Selectable<CaseEventsTable>
