import { sql } from 'kysely'
import type { Db } from '../db/db'
import type { FieldCipher } from './field-cipher'

/**
 * Key rotation of the fields encrypted at rest: every value not under the cipher's active key
 * (an older key, or legacy plaintext) is decrypted and encrypted again with it, row by row in
 * short transactions, so that the old key can be retired once this has run. Idempotent: a second
 * run finds nothing to do. Returns how many rows changed, per table.
 */
export async function rotateDataKeys(
  db: Db,
  cipher: FieldCipher,
): Promise<{ contacts: number; notifications: number; totpSecrets: number }> {
  const stale = (value: string | null) =>
    value !== null && cipher.keyIdOf(value) !== cipher.activeKeyId
  const again = (value: string | null) =>
    value === null ? null : cipher.encrypt(cipher.decrypt(value))
  let contacts = 0
  for (const row of await db
    .selectFrom('complainantContacts')
    .select(['caseId', 'email', 'phone'])
    .execute()) {
    if (!stale(row.email) && !stale(row.phone)) continue
    await db
      .updateTable('complainantContacts')
      .set({ email: again(row.email), phone: again(row.phone) })
      .where('caseId', '=', row.caseId)
      .execute()
    contacts++
  }
  let notifications = 0
  for (const row of await db
    .selectFrom('notificationOutbox')
    .select(['id', 'recipient'])
    .execute()) {
    if (!stale(row.recipient)) continue
    await db
      .updateTable('notificationOutbox')
      .set({ recipient: cipher.encrypt(cipher.decrypt(row.recipient)) })
      .where('id', '=', row.id)
      // Only if nobody rewrote it meanwhile.
      .where('recipient', '=', row.recipient)
      .execute()
    notifications++
  }
  // Second-factor secrets (sealed since issue 15; older ones in clear are sealed here).
  let totpSecrets = 0
  const { rows } = await sql<{ id: string; secret: string }>`
    select id, totp_secret as "secret" from users where totp_secret is not null`.execute(db)
  for (const row of rows) {
    if (!stale(row.secret)) continue
    await sql`update users set totp_secret = ${again(row.secret)}
      where id = ${row.id} and totp_secret = ${row.secret}`.execute(db)
    totpSecrets++
  }
  return { contacts, notifications, totpSecrets }
}
