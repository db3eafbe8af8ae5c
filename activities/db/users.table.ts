import type { ColumnType, Generated } from 'kysely'
import type { DefaultedTimestamp, OptionalText } from './columns'
import type { RoleCode } from './reference.table'

/** Users and their roles in areas. */

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
  /** A TOTP secret being enrolled, until its first code is verified (migration 000500). */
  totpPendingSecret: OptionalText
  /** The last TOTP time step accepted: a code is never accepted twice (migration 000500). */
  totpLastStep: ColumnType<number | null, number | null | undefined, number | null>
  /** May export cases as CSV (migration 000800). */
  canExport: Generated<boolean>
  /** The Temporal operator's permission: the codec endpoint decrypts payloads for them. */
  canDecodePayloads: Generated<boolean>
  /** The partner organisation a partner user (or a partner system's account) acts for. */
  partnerCode: OptionalText
  /** May refer a sensitive case without consent (migration 001100). */
  canOverrideConsent: Generated<boolean>
}

export interface UserRolesTable {
  userId: string
  roleCode: RoleCode
  areaCode: string
}
