import { sql, type Kysely } from 'kysely'

// Frozen: a migration never changes once released, and imports nothing from the application.

/**
 * `sending`: committed before the SMTP conversation starts. A row found in this state by the next
 * attempt means the previous sender died mid-way: the email may or may not have left, so it is
 * recorded as failed (visible) rather than sent a second time.
 */
export async function up(db: Kysely<unknown>): Promise<void> {
  await sql`alter table notification_outbox drop constraint notification_outbox_status_check`.execute(
    db,
  )
  await sql`alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sending', 'sent', 'failed'))`.execute(db)
}

export async function down(db: Kysely<unknown>): Promise<void> {
  await sql`update notification_outbox set status = 'failed' where status = 'sending'`.execute(db)
  await sql`alter table notification_outbox drop constraint notification_outbox_status_check`.execute(
    db,
  )
  await sql`alter table notification_outbox add constraint notification_outbox_status_check
    check (status in ('pending', 'sent', 'failed'))`.execute(db)
}
