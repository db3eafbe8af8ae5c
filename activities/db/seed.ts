import { hash, type Algorithm } from '@node-rs/argon2'
import { sql } from 'kysely'
import type { Db } from './db'
import { communes, households, partners, regions, services, slug } from './demo-data'
import { maliPublicHolidays } from './mali-holidays'
import type { RoleCode } from './schema'

export const DEMO_PASSWORD = 'Demo-RSU-2026'
const SEED_KEY = 'demo_seed'
// Algorithm is a const enum the package does not ship as a value: 2 is Argon2id.
const ARGON2ID = 2 as Algorithm.Argon2id
const SEED_VERSION = 1

export interface DemoAccount {
  username: string
  role: RoleCode
  area: string
}

export interface SeedResult {
  seeded: boolean
  /** A few representative accounts to print; every demo account shares DEMO_PASSWORD. */
  accounts: DemoAccount[]
  userCount: number
}

/**
 * Seeds the demo dataset once per database: geography, roles held in areas (one user per role per
 * area), services, partners and households. A marker row makes later starts skip it, and an
 * advisory lock keeps two processes starting together from seeding twice.
 */
export async function seedDemo(db: Db): Promise<SeedResult> {
  // One hash for every demo account: the demo password is public anyway, and hashing ~50 times
  // would add seconds to the first start.
  const passwordHash = await hash(DEMO_PASSWORD, { algorithm: ARGON2ID })
  return db.transaction().execute(async (trx) => {
    await sql`select pg_advisory_xact_lock(hashtext('rsu-casework:demo-seed'))`.execute(trx)
    const done = await trx
      .selectFrom('appSettings')
      .select('value')
      .where('key', '=', SEED_KEY)
      .executeTakeFirst()
    const userCount = async () =>
      Number(
        (
          await trx
            .selectFrom('users')
            .select((eb) => eb.fn.countAll().as('n'))
            .executeTakeFirstOrThrow()
        ).n,
      )
    if (done) return { seeded: false, accounts: [], userCount: await userCount() }

    const areas: {
      code: string
      parentCode: string | null
      level: 'national' | 'region' | 'cercle' | 'commune'
      name: string
    }[] = [{ code: 'ML', parentCode: null, level: 'national', name: 'Mali' }]
    const cercleCodes = new Map<string, string>()
    for (const region of regions) {
      areas.push({ code: region.code, parentCode: 'ML', level: 'region', name: region.name })
      for (const cercle of region.cercles) {
        const code = `${region.code}-${slug(cercle)}`
        cercleCodes.set(cercle, code)
        areas.push({ code, parentCode: region.code, level: 'cercle', name: cercle })
      }
    }
    const communeCodes = new Map<string, string>()
    for (const commune of communes) {
      const parent = cercleCodes.get(commune.cercle)!
      const code = `${parent}-${slug(commune.name)}`
      communeCodes.set(commune.name, code)
      areas.push({ code, parentCode: parent, level: 'commune', name: commune.name })
    }
    await trx.insertInto('adminAreas').values(areas).execute()

    // Holidays for the years we know; lunar ones are confirmed by an administrator each year.
    const holidays = new Map<
      string,
      { date: string; nameFr: string; nameEn: string; lunar: boolean }
    >()
    for (const list of Object.values(maliPublicHolidays)) {
      for (const h of list) {
        // Two holidays can fall on one day (e.g. a lunar feast on 22 September): keep the first.
        if (!holidays.has(h.date)) {
          holidays.set(h.date, {
            date: h.date,
            nameFr: h.name_fr,
            nameEn: h.name_en,
            lunar: h.lunar,
          })
        }
      }
    }
    await trx
      .insertInto('holidays')
      .values([...holidays.values()])
      .onConflict((oc) => oc.doNothing())
      .execute()

    await trx
      .insertInto('services')
      .values(services.map((s) => ({ code: s.code, labelFr: s.fr, labelEn: s.en })))
      .execute()
    await trx
      .insertInto('partners')
      .values(
        partners.map((p) => ({
          code: p.code,
          name: p.name,
          kind: p.kind,
          contactEmail: `referrals@${p.code}.rsu.localhost`,
        })),
      )
      .execute()
    await trx
      .insertInto('partnerServices')
      .values(
        partners.flatMap((p) =>
          p.services.map((s) => ({ partnerCode: p.code, serviceCode: s, areaCode: 'ML' })),
        ),
      )
      .execute()
    await trx
      .insertInto('households')
      .values(
        households.map((h) => ({
          id: h.id,
          areaCode: communeCodes.get(h.commune)!,
          members: h.members,
          pmtScore: h.pmtScore,
          programmes: h.programmes,
        })),
      )
      .execute()

    // One user per role per area: two case workers per commune (so that assignment by workload
    // has a choice), a supervisor per cercle and per region with communes, one focal point for
    // sensitive cases per region, a national manager and administrator, one user per partner.
    const accounts: (DemoAccount & { displayName: string; clearance?: boolean })[] = []
    const seededRegions = new Set<string>()
    const seededCercles = new Set<string>()
    for (const [name, code] of communeCodes) {
      const cercle = areas.find((a) => a.code === code)!.parentCode!
      const region = areas.find((a) => a.code === cercle)!.parentCode!
      const short = slug(name).toLowerCase()
      for (const n of [1, 2]) {
        accounts.push({
          username: `agent.${short}.${n}`,
          displayName: `Agent ${n} — ${name}`,
          role: 'case_worker',
          area: code,
        })
      }
      if (!seededCercles.has(cercle)) {
        seededCercles.add(cercle)
        const cercleName = areas.find((a) => a.code === cercle)!.name
        accounts.push({
          username: `superviseur.cercle.${slug(cercleName).toLowerCase()}`,
          displayName: `Superviseur — cercle de ${cercleName}`,
          role: 'supervisor',
          area: cercle,
        })
      }
      if (!seededRegions.has(region)) {
        seededRegions.add(region)
        const regionName = slug(areas.find((a) => a.code === region)!.name).toLowerCase()
        // Regional supervisors are the designated focal points who approve sensitive cases.
        accounts.push({
          username: `superviseur.region.${regionName}`,
          displayName: `Superviseur — région ${areas.find((a) => a.code === region)!.name}`,
          role: 'supervisor',
          area: region,
          clearance: true,
        })
        accounts.push({
          username: `point-focal.${regionName}`,
          displayName: `Point focal VBG/EAS — ${areas.find((a) => a.code === region)!.name}`,
          role: 'case_worker',
          area: region,
          clearance: true,
        })
      }
    }
    accounts.push(
      {
        username: 'gestionnaire',
        displayName: 'Gestionnaire de programme',
        role: 'programme_manager',
        area: 'ML',
      },
      { username: 'admin', displayName: 'Administrateur', role: 'administrator', area: 'ML' },
      ...partners.map((p) => ({
        username: `partenaire.${p.code}`,
        displayName: p.name,
        role: 'partner' as const,
        area: 'ML',
      })),
    )
    const inserted = await trx
      .insertInto('users')
      .values(
        accounts.map((a) => ({
          username: a.username,
          displayName: a.displayName,
          email: `${a.username}@rsu.localhost`,
          passwordHash,
          sensitiveClearance: a.clearance ?? false,
          totpSecret: null,
        })),
      )
      .returning(['id', 'username'])
      .execute()
    const ids = new Map(inserted.map((u) => [u.username, u.id]))
    await trx
      .insertInto('userRoles')
      .values(
        accounts.map((a) => ({ userId: ids.get(a.username)!, roleCode: a.role, areaCode: a.area })),
      )
      .execute()
    // The administrator may grant clearance and the export permission only because it holds
    // them (nobody grants beyond what they hold); as an administrator it still sees no case.
    await sql`update users set sensitive_clearance = true, can_export = true
      where username = 'admin'`.execute(trx)
    // The Temporal operator: no role (sees no case through the API), but the codec endpoint
    // decodes workflow payloads for it once its second factor is passed.
    await sql`insert into users (username, display_name, email, password_hash, can_decode_payloads)
      values ('exploitant', 'Exploitant Temporal', 'exploitant@rsu.localhost', ${passwordHash},
        true)`.execute(trx)
    // Each partner user acts for its organisation (users.partner_code, migration 001100).
    for (const p of partners) {
      await sql`update users set partner_code = ${p.code} where username = ${`partenaire.${p.code}`}`.execute(
        trx,
      )
    }
    await trx
      .insertInto('appSettings')
      .values({
        key: SEED_KEY,
        value: { version: SEED_VERSION, seededAt: new Date().toISOString() },
      })
      .execute()

    const shown = [
      'admin',
      'gestionnaire',
      'superviseur.region.koulikoro',
      'superviseur.cercle.kati',
      'agent.kati.1',
      'point-focal.koulikoro',
      'partenaire.pam',
    ]
    return {
      seeded: true,
      accounts: accounts
        .filter((a) => shown.includes(a.username))
        .map(({ username, role, area }) => ({ username, role, area })),
      userCount: accounts.length + 1,
    }
  })
}
