import type { Migration } from 'kysely'
import * as m20261129000100 from './2026_11_29_000100_create_reference_tables'
import * as m20261129000200 from './2026_11_29_000200_create_case_tables'
import * as m20261129000300 from './2026_11_29_000300_create_policy_tables'
import * as m20261129000400 from './2026_11_29_000400_add_outbox_sending'
import * as m20261129000500 from './2026_11_29_000500_create_auth_tables'
import * as m20261129000600 from './2026_11_29_000600_add_area_paths_and_idempotency'
import * as m20261129000700 from './2026_11_29_000700_create_case_tracking'
import * as m20261129000800 from './2026_11_29_000800_add_export_permission'
import * as m20261129000900 from './2026_11_29_000900_create_break_glass'
import * as m20261129001010 from './2026_11_29_001010_create_reverification_tables'
import * as m20261129001100 from './2026_11_29_001100_create_referrals_and_appeals'
import * as m20261129001200 from './2026_11_29_001200_add_case_anonymisation'
import * as m20261129001400 from './2026_11_29_001400_add_list_indexes'
import * as m20261204000100 from './2026_12_04_000100_repair_retention_setting'
import * as m20261204001500 from './2026_12_04_001500_create_security_audit'
import * as m20261204002300 from './2026_12_04_002300_create_break_glass_requests'

/**
 * Every migration, by name, in order. Listed explicitly rather than read from the directory so
 * that the same list runs under tsx, vitest and a bundled build alike.
 */
export const migrations: Record<string, Migration> = {
  '2026_11_29_000100_create_reference_tables': m20261129000100,
  '2026_11_29_000200_create_case_tables': m20261129000200,
  '2026_11_29_000300_create_policy_tables': m20261129000300,
  '2026_11_29_000400_add_outbox_sending': m20261129000400,
  '2026_11_29_000500_create_auth_tables': m20261129000500,
  '2026_11_29_000600_add_area_paths_and_idempotency': m20261129000600,
  '2026_11_29_000700_create_case_tracking': m20261129000700,
  '2026_11_29_000800_add_export_permission': m20261129000800,
  '2026_11_29_000900_create_break_glass': m20261129000900,
  '2026_11_29_001010_create_reverification_tables': m20261129001010,
  '2026_11_29_001100_create_referrals_and_appeals': m20261129001100,
  '2026_11_29_001200_add_case_anonymisation': m20261129001200,
  '2026_11_29_001400_add_list_indexes': m20261129001400,
  '2026_12_04_000100_repair_retention_setting': m20261204000100,
  '2026_12_04_001500_create_security_audit': m20261204001500,
  '2026_12_04_002300_create_break_glass_requests': m20261204002300,
}
