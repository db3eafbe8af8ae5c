import type { ColumnType, Generated } from 'kysely'
import type { CaseKind } from './cases.table'
import type { DefaultedTimestamp } from './columns'

/** Reference data: settings, roles, geography, categories, SLA policies, holidays, services. */

export type RoleCode =
  'case_worker' | 'supervisor' | 'programme_manager' | 'administrator' | 'partner'
export type AreaLevel = 'national' | 'region' | 'cercle' | 'commune' | 'village'

/** A setting's jsonb value: an object, or a bare number or boolean (`workflow_history_limit`). */
export type SettingValue = ColumnType<unknown, object | number | boolean, object | number | boolean>

export interface AppSettingsTable {
  key: string
  value: SettingValue
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
  /**
   * `ML/ML-2/ML-2-KATI/…`, kept by a trigger (migration 2026_11_29_000600): "within X" is a
   * range on this column.
   */
  path: Generated<string>
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

/** A service of the integrated protection package. */
export interface ServicesTable {
  code: string
  labelFr: string
  labelEn: string
}
