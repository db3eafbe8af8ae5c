import type { Db } from '../db/db'
import type { RegistryClient } from './client'

/**
 * The embedded default: with no REGISTRY_URL, the households table is the registry. Reads are
 * rows; a write updates the row (idempotent by nature: the same change twice is the same row).
 */
export function createDatabaseRegistry(db: Db): RegistryClient {
  return {
    kind: 'database',
    async getHousehold(householdId) {
      const row = await db
        .selectFrom('households')
        .select(['id', 'areaCode', 'members', 'pmtScore', 'eligible', 'programmes'])
        .where('id', '=', householdId)
        .executeTakeFirst()
      if (!row) return null
      return { ...row, pmtScore: row.pmtScore === null ? null : Number(row.pmtScore) }
    },
    async updateEligibility(update) {
      await db
        .updateTable('households')
        .set({
          pmtScore: update.score,
          eligible: update.eligible,
          pmtFormulaVersion: update.formulaVersion,
          members: update.members,
        })
        .where('id', '=', update.householdId)
        .execute()
      return { reference: null }
    },
  }
}
