import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { FieldCipher } from '../../activities/crypto/field-cipher'
import { parseKeyring } from '../../activities/crypto/payload-codec'
import { rotateDataKeys } from '../../activities/crypto/rotate-data'
import { queueNotifications } from '../../activities/notifications/outbox'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedGeography } from '../helpers/fixtures'

const key = (id: string, fill: number) => `${id}:${Buffer.alloc(32, fill).toString('base64')}`
const OLD = key('k2025', 1)
const NEW = key('k2026', 2)

let tdb: TestDatabase
beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedGeography(tdb.db)
})
afterAll(() => tdb?.drop())

describe('sensitive fields encrypted at rest', () => {
  it('encrypts with a key id, refuses tampering, and reads legacy plaintext as is', () => {
    const cipher = new FieldCipher(parseKeyring(OLD))
    const stored = cipher.encrypt('aminata@exemple.ml')
    expect(stored).toMatch(/^enc:v1:k2025:/)
    expect(stored).not.toContain('aminata')
    expect(cipher.decrypt(stored)).toBe('aminata@exemple.ml')
    expect(cipher.encrypt('x')).not.toBe(cipher.encrypt('x'))
    const tampered = stored.replace('enc:v1:k2025:', 'enc:v1:k2025:A')
    expect(() => cipher.decrypt(tampered)).toThrow()
    expect(cipher.decrypt('plain@exemple.ml')).toBe('plain@exemple.ml')
    expect(() => new FieldCipher(parseKeyring(NEW)).decrypt(stored)).toThrow(
      /unknown data key id "k2025"/,
    )
  })

  it('keeps every record readable through a key rotation, and re-encrypts them all with the new key', async () => {
    const old = new FieldCipher(parseKeyring(OLD))
    await tdb.db
      .insertInto('cases')
      .values({
        id: 'G-ROT',
        workflowId: 'case-G-ROT',
        kind: 'grievance',
        stage: 'triage',
        areaCode: 'ML-2-KATI-KATI',
        category: null,
        channel: null,
        openedAt: new Date(),
        closedAt: null,
        parentCaseId: null,
        householdId: null,
        ackDueAt: null,
        resolveDueAt: null,
        lastEventSeq: 1,
        reference: null,
        satisfaction: null,
      })
      .execute()
    await tdb.db
      .insertInto('complainantContacts')
      .values({
        caseId: 'G-ROT',
        email: old.encrypt('aminata@exemple.ml'),
        phone: old.encrypt('+223 76 11 22 33'),
      })
      .execute()
    await queueNotifications(
      tdb.db,
      [1, 2, 3].map((n) => ({
        dedupeKey: `case-G-ROT:${n}:0`,
        caseId: 'G-ROT',
        template: 'new_task' as const,
        locale: 'fr' as const,
        recipient: `agent${n}@rsu.localhost`,
        params: { reference: 'PL-2026-ROT' },
      })),
      { cipher: old },
    )

    // A second factor enrolled before secrets were sealed, still in clear.
    await sql`insert into users (username, display_name, totp_secret)
      values ('ancien.superviseur', 'Ancien', 'JBSWY3DPEHPK3PXP')`.execute(tdb.db)

    const both = new FieldCipher(parseKeyring(`${NEW},${OLD}`))
    const result = await rotateDataKeys(tdb.db, both)
    expect(result).toEqual({ contacts: 1, notifications: 3, totpSecrets: 1 })
    const { rows: totp } = await sql<{ v: string }>`
      select totp_secret as v from users where username = 'ancien.superviseur'`.execute(tdb.db)
    expect(both.keyIdOf(totp[0]!.v)).toBe('k2026')
    expect(both.decrypt(totp[0]!.v)).toBe('JBSWY3DPEHPK3PXP')
    // Nothing left under the old key, everything readable with the new keyring, none in clear.
    const { rows } = await sql<{ v: string }>`
      select email as v from complainant_contacts union all select phone from complainant_contacts
      union all select recipient from notification_outbox`.execute(tdb.db)
    expect(rows).toHaveLength(5)
    for (const { v } of rows) {
      expect(both.keyIdOf(v)).toBe('k2026')
      expect(v).not.toMatch(/exemple|rsu\.localhost|223/)
    }
    expect(rows.map((r) => both.decrypt(r.v)).sort()).toEqual(
      [
        '+223 76 11 22 33',
        'agent1@rsu.localhost',
        'agent2@rsu.localhost',
        'agent3@rsu.localhost',
        'aminata@exemple.ml',
      ].sort(),
    )
    // A second run has nothing to do.
    expect(await rotateDataKeys(tdb.db, both)).toEqual({
      contacts: 0,
      notifications: 0,
      totpSecrets: 0,
    })
  })
})
