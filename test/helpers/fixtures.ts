import { randomUUID } from 'node:crypto'
import type { Db } from '../../activities/db/db'
import { seedDemo } from '../../activities/db/seed'
import { ALWAYS_OPEN } from '../../workflows/kernel/calendar'
import type { Actor, OpenCaseInput } from '../../workflows/messages'

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

/**
 * The demo dataset (geography, users per role and area) with SLA policies in seconds on a
 * calendar that is always open, so that tests see reminders and breaches within seconds.
 * `targets` are working seconds by stage; categories may get their own policy.
 */
export async function seedForCases(
  db: Db,
  policies: {
    caseKind?: 'grievance' | 'reverification' | 'referral' | 'appeal'
    category?: string
    targets: Record<string, number>
    atRiskRatio?: number
  }[] = [],
): Promise<void> {
  await seedDemo(db)
  await db.deleteFrom('holidays').execute()
  await db
    .insertInto('appSettings')
    .values({ key: 'business_week', value: ALWAYS_OPEN.week })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: ALWAYS_OPEN.week }))
    .execute()
  await db
    .updateTable('slaPolicies')
    .set({ targets: { ...slowTargets } })
    .where('category', 'is', null)
    .execute()
  for (const p of policies) {
    await db
      .insertInto('slaPolicies')
      .values({
        caseKind: p.caseKind ?? 'grievance',
        category: p.category ?? null,
        priority: null,
        targets: { ...slowTargets, ...p.targets },
        atRiskRatio: p.atRiskRatio ?? 0.75,
      })
      .execute()
  }
}

/** Far enough never to fire during a test, but for a 2-second appeal window. */
const slowTargets = {
  acknowledge: 3600,
  triage: 3600,
  investigation: 3600,
  approval: 3600,
  resolve: 36_000,
  escalationRepeat: 3600,
  appealWindow: 2,
}

export async function userId(db: Db, username: string): Promise<string> {
  const row = await db
    .selectFrom('users')
    .select('id')
    .where('username', '=', username)
    .executeTakeFirstOrThrow()
  return row.id
}

export async function actor(
  db: Db,
  username: string,
  role: Actor['role'],
  clearance = false,
): Promise<Actor> {
  return { userId: await userId(db, username), role, clearance }
}

export function grievanceInput(overrides: Partial<OpenCaseInput> = {}): OpenCaseInput {
  const caseId = overrides.caseId ?? `G-${randomUUID().slice(0, 8)}`
  return {
    caseId,
    reference: `RSU-${caseId}`,
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
