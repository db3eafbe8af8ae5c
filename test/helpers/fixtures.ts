import { randomUUID } from 'node:crypto'
import type { Db } from '../../activities/db/db'
import type { OpenCaseInput } from '../../workflows/messages'

/** A minimal geography (Mali → Koulikoro → Kati → Kati commune) for tests that open cases. */
export async function seedGeography(db: Db): Promise<{ commune: string }> {
  await db
    .insertInto('adminAreas')
    .values([
      { code: 'ML', parentCode: null, level: 'national', name: 'Mali' },
      { code: 'ML-2', parentCode: 'ML', level: 'region', name: 'Koulikoro' },
      { code: 'ML-2-KATI', parentCode: 'ML-2', level: 'cercle', name: 'Kati' },
      { code: 'ML-2-KATI-KATI', parentCode: 'ML-2-KATI', level: 'commune', name: 'Kati' },
    ])
    .onConflict((oc) => oc.doNothing())
    .execute()
  return { commune: 'ML-2-KATI-KATI' }
}

export function grievanceInput(overrides: Partial<OpenCaseInput> = {}): OpenCaseInput {
  return {
    caseId: `G-${randomUUID().slice(0, 8)}`,
    kind: 'grievance',
    areaCode: 'ML-2-KATI-KATI',
    category: 'payment_not_received',
    channel: 'hotline',
    priority: 'normal',
    sensitive: false,
    openedBy: { userId: null, role: 'public' },
    ...overrides,
  }
}
