import type { Insertable, Selectable, Updateable } from 'kysely'
import type {
  AccessAuditTable,
  BreakGlassGrantsTable,
  BreakGlassRequestsTable,
  IdempotencyKeysTable,
} from './access.table'
import type {
  ApiTokensTable,
  CodecAuditTable,
  SessionsTable,
  SignInLockoutsTable,
  UserAuditTable,
} from './auth.table'
import type {
  CaseEventsTable,
  CaseLinksTable,
  CasesTable,
  CaseTrackingTable,
  ComplainantContactsTable,
  TasksTable,
} from './cases.table'
import type { NotificationOutboxTable } from './notifications.table'
import type {
  AdminAreasTable,
  AppSettingsTable,
  CategoriesTable,
  HolidaysTable,
  RolesTable,
  ServicesTable,
  SlaPoliciesTable,
} from './reference.table'
import type {
  PartnerServicesTable,
  PartnersTable,
  ReferralsTable,
  WebhookDeliveriesTable,
} from './referrals.table'
import type {
  CampaignLinesTable,
  CampaignsTable,
  HouseholdScoresTable,
  HouseholdsTable,
  PmtFormulasTable,
  RegistryWritesTable,
} from './reverification.table'
import type { UserRolesTable, UsersTable } from './users.table'

/**
 * The database as the application sees it, every table of every migration: camelCase here,
 * snake_case in SQL (CamelCasePlugin). Each feature types its tables in a `*.table.ts` file
 * beside this one; this is the one place they are put together, so there is one `Db` and no
 * side view (`withTables`, casts) anywhere. A migration that adds a table or a column adds it
 * to its feature's file.
 */
export interface Database {
  // reference.table.ts
  appSettings: AppSettingsTable
  roles: RolesTable
  adminAreas: AdminAreasTable
  categories: CategoriesTable
  slaPolicies: SlaPoliciesTable
  holidays: HolidaysTable
  services: ServicesTable
  // users.table.ts
  users: UsersTable
  userRoles: UserRolesTable
  // auth.table.ts
  sessions: SessionsTable
  apiTokens: ApiTokensTable
  signInLockouts: SignInLockoutsTable
  userAudit: UserAuditTable
  codecAudit: CodecAuditTable
  // access.table.ts
  idempotencyKeys: IdempotencyKeysTable
  accessAudit: AccessAuditTable
  breakGlassGrants: BreakGlassGrantsTable
  breakGlassRequests: BreakGlassRequestsTable
  // cases.table.ts
  cases: CasesTable
  tasks: TasksTable
  caseEvents: CaseEventsTable
  caseLinks: CaseLinksTable
  complainantContacts: ComplainantContactsTable
  caseTracking: CaseTrackingTable
  // notifications.table.ts
  notificationOutbox: NotificationOutboxTable
  // referrals.table.ts
  partners: PartnersTable
  partnerServices: PartnerServicesTable
  referrals: ReferralsTable
  webhookDeliveries: WebhookDeliveriesTable
  // reverification.table.ts
  households: HouseholdsTable
  pmtFormulas: PmtFormulasTable
  householdScores: HouseholdScoresTable
  registryWrites: RegistryWritesTable
  campaigns: CampaignsTable
  campaignLines: CampaignLinesTable
}

export type * from './access.table'
export type * from './auth.table'
export type * from './cases.table'
export type * from './columns'
export type * from './notifications.table'
export type * from './reference.table'
export type * from './referrals.table'
export type * from './reverification.table'
export type * from './users.table'

export type CaseRow = Selectable<CasesTable>
export type NewCase = Insertable<CasesTable>
export type CaseUpdate = Updateable<CasesTable>
export type CaseEventRow = Selectable<CaseEventsTable>
