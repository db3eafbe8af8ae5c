import { createHash } from 'node:crypto'
import { ApplicationFailure } from '@temporalio/common'
import { sql, type Kysely, type Selectable, type Updateable } from 'kysely'
import type { Transporter } from 'nodemailer'
import type { FieldCipher } from '../crypto/field-cipher'
import type { Db } from '../db/db'
import type { Database, NotificationOutboxTable } from '../db/schema'
import type { Logger } from '../infra/logger'
import {
  isTemplateName,
  renderNotification,
  sanitizeTemplateParams,
  type RenderedNotification,
} from './templates'

export interface NotificationDeps {
  db: Db
  transport: Transporter
  /** The From header, e.g. `RSU Casework <no-reply@rsu.example>`. */
  from: string
  /** Attempts before a notification is given up as `failed` (default 5). */
  maxAttempts?: number
  now?: () => Date
  /** Receives outbox ids, templates and SMTP codes only: never an address or a body. */
  log?: Logger
  /** Decrypts recipients stored encrypted (plaintext ones read as is). */
  cipher?: FieldCipher
}

export type DeliveryResult = 'sent' | 'already_sent' | 'failed' | 'retry_later'

/** First retry after this delay, doubling at each attempt up to the cap. */
export const NOTIFICATION_RETRY_BASE_MS = 5 * 60_000
export const NOTIFICATION_RETRY_MAX_MS = 4 * 60 * 60_000

/**
 * The Message-ID of a notification, derived from its dedupe key only: a resend after a crash
 * between SMTP acceptance and the database update carries the same id, so the receiving side can
 * recognise the duplicate. Hashed, so the key (which may name its recipient) does not leak.
 */
export function notificationMessageId(dedupeKey: string): string {
  return `<${keyHash(dedupeKey)}@rsu-casework>`
}

/**
 * Delivery of queued notifications, as Temporal activities (plain functions: testable without
 * a server). Never twice: one delivery lock per row (a PostgreSQL advisory lock, freed if the
 * process dies), `sending` committed before the SMTP exchange, and a row found `sending` by the
 * next attempt (its sender died mid-way) recorded as failed for a person to check rather than
 * resent. The Message-ID is deterministic too.
 *
 * A mail server that fails never blocks a case: a permanent refusal (5xx) or the last allowed
 * attempt records the row as `failed` (visible, with its SMTP code) and the activity resolves.
 * A temporary failure records the attempt and its backoff in the row, then throws a retryable
 * `ApplicationFailure` whose `nextRetryDelay` is that backoff, so the workflow's bounded retry
 * policy comes back when the outbox says the row is due (give it `maximumAttempts` of at least
 * `maxAttempts`; `deliverDueNotifications` picks up whatever a lost activity left pending).
 */
export function createNotificationActivities(deps: NotificationDeps) {
  return {
    /**
     * Delivers one queued notification. Resolves `sent`, `already_sent` (nothing sent again),
     * `failed` (given up: recorded on the row) or `retry_later` (an earlier attempt scheduled the
     * next one for later: nothing sent now, the sweeper or a later call will). Throws on a
     * temporary SMTP failure (retry) and when no row has this key (a bug: not retryable).
     */
    async deliverNotification(dedupeKey: string): Promise<DeliveryResult> {
      const outcome = await withDeliveryLock(deps.db, dedupeKey, 'wait', async (conn) => {
        const row = await conn
          .selectFrom('notificationOutbox')
          .selectAll()
          .where('dedupeKey', '=', dedupeKey)
          .executeTakeFirst()
        return row ? attemptLocked(deps, conn, row) : undefined
      })
      if (outcome === undefined || outcome === 'skipped') {
        throw ApplicationFailure.nonRetryable(
          `no queued notification has key hash ${keyHash(dedupeKey)}`,
          'NotificationNotQueued',
        )
      }
      if (outcome.result === 'retry') throw retryFailure(outcome)
      return outcome.result
    },
  }
}

/**
 * Runs `work` holding the delivery lock of one notification: a session advisory lock on a
 * connection of its own, released when `work` ends or, if the process dies, when PostgreSQL sees
 * the connection close. `try` mode returns `skipped` instead of waiting for another holder.
 */
async function withDeliveryLock<T>(
  db: Db,
  dedupeKey: string,
  mode: 'wait' | 'try',
  work: (conn: Kysely<Database>) => Promise<T>,
): Promise<T | 'skipped'> {
  const lockKey = `rsu-outbox:${dedupeKey}`
  return db.connection().execute(async (conn) => {
    if (mode === 'try') {
      const { rows } = await sql<{ ok: boolean }>`
        select pg_try_advisory_lock(hashtextextended(${lockKey}, 0)) as ok`.execute(conn)
      if (!rows[0]?.ok) return 'skipped' as const
    } else {
      await sql`select pg_advisory_lock(hashtextextended(${lockKey}, 0))`.execute(conn)
    }
    try {
      return await work(conn)
    } finally {
      await sql`select pg_advisory_unlock(hashtextextended(${lockKey}, 0))`.execute(conn)
    }
  })
}

/**
 * The sweeper: delivers up to `limit` notifications whose next attempt is due, one row at a time
 * through the same logic as `deliverNotification`. A row whose delivery lock is held (a running
 * activity) is skipped, so the sweeper and the activities never send the same row twice; a row
 * left `sending` by a dead sender is recorded as failed. Temporary failures are recorded on their
 * rows (and counted in neither total).
 */
export async function deliverDueNotifications(
  deps: NotificationDeps,
  limit = 50,
): Promise<{ sent: number; failed: number }> {
  const totals = { sent: 0, failed: 0 }
  let retrying = 0
  const now = (deps.now ?? defaultNow)()
  const due = await deps.db
    .selectFrom('notificationOutbox')
    .select('dedupeKey')
    .where('status', 'in', ['pending', 'sending'])
    .where('nextAttemptAt', '<=', now)
    .orderBy('nextAttemptAt')
    .orderBy('id')
    .limit(limit)
    .execute()
  for (const { dedupeKey } of due) {
    const outcome = await withDeliveryLock(deps.db, dedupeKey, 'try', async (conn) => {
      const row = await conn
        .selectFrom('notificationOutbox')
        .selectAll()
        .where('dedupeKey', '=', dedupeKey)
        .executeTakeFirstOrThrow()
      return attemptLocked(deps, conn, row)
    })
    if (outcome === 'skipped') continue
    if (outcome.result === 'sent') totals.sent++
    else if (outcome.result === 'failed') totals.failed++
    else if (outcome.result === 'retry') retrying++
  }
  if (totals.sent + totals.failed + retrying > 0) {
    deps.log?.info({ ...totals, retrying }, 'notification sweep done')
  }
  return totals
}

type OutboxRow = Selectable<NotificationOutboxTable>
type Attempt =
  | { result: DeliveryResult }
  | { result: 'retry'; outboxId: string; attempts: number; error: string; delayMs: number }

const defaultNow = () => new Date()

/**
 * One delivery attempt on a row whose delivery lock the caller holds. Each step is committed on
 * its own: `sending` before the SMTP conversation, then `sent`, `pending` (retry) or `failed`.
 */
async function attemptLocked(
  deps: NotificationDeps,
  conn: Kysely<Database>,
  row: OutboxRow,
): Promise<Attempt> {
  const now = (deps.now ?? defaultNow)()
  const maxAttempts = deps.maxAttempts ?? 5
  const log = { outboxId: row.id, caseId: row.caseId, template: row.template }
  if (row.status === 'sent') return { result: 'already_sent' }
  if (row.status === 'failed') return { result: 'failed' }

  const record = async (set: Updateable<NotificationOutboxTable>): Promise<void> => {
    await conn.updateTable('notificationOutbox').set(set).where('id', '=', row.id).execute()
  }
  const markFailed = async (lastError: string, attempts: number): Promise<Attempt> => {
    await record({ status: 'failed', attempts, lastError })
    deps.log?.warn({ ...log, attempts, error: lastError }, 'notification failed for good')
    return { result: 'failed' }
  }
  // The previous sender died between `sending` and its result: the email may have left. Sending
  // again could send it twice; it is recorded as failed instead, for a person to check.
  if (row.status === 'sending') {
    return markFailed(
      'INTERRUPTED: the sender stopped during the SMTP exchange; not resent, to never send twice',
      row.attempts,
    )
  }
  // A backoff we recorded ourselves (attempts > 0) wins over an early call: no hammering.
  if (row.attempts > 0 && row.nextAttemptAt.getTime() > now.getTime()) {
    return { result: 'retry_later' }
  }

  const attempts = row.attempts + 1
  let message: RenderedNotification
  try {
    if (!isTemplateName(row.template)) throw new Error('unknown template')
    const params = sanitizeTemplateParams(row.params)
    message = renderNotification(row.template, row.locale === 'en' ? 'en' : 'fr', params)
  } catch (error) {
    // A row that cannot be rendered never will be: give it up at once, visibly.
    return markFailed(
      `template: ${error instanceof Error ? error.message : 'render failed'}`,
      attempts,
    )
  }

  const messageId = notificationMessageId(row.dedupeKey)
  await record({ status: 'sending', attempts })
  try {
    await deps.transport.sendMail({
      from: deps.from,
      to: deps.cipher ? deps.cipher.decrypt(row.recipient) : row.recipient,
      subject: message.subject,
      text: message.text,
      messageId,
      // RFC 3834: out-of-office robots must not answer a notification.
      headers: { 'Auto-Submitted': 'auto-generated' },
    })
  } catch (error) {
    const smtp = describeSmtpError(error)
    if (smtp.permanent) return markFailed(smtp.text, attempts)
    // Retry cap: an SMTP outage must not spam users nor keep a notification alive forever.
    if (attempts >= maxAttempts) return markFailed(smtp.text, attempts)
    const delayMs = Math.min(
      NOTIFICATION_RETRY_BASE_MS * 2 ** (attempts - 1),
      NOTIFICATION_RETRY_MAX_MS,
    )
    await record({
      status: 'pending',
      lastError: smtp.text,
      nextAttemptAt: new Date(now.getTime() + delayMs),
    })
    deps.log?.warn({ ...log, attempts, delayMs, error: smtp.text }, 'notification will be retried')
    return { result: 'retry', outboxId: row.id, attempts, error: smtp.text, delayMs }
  }

  await record({ status: 'sent', messageId, sentAt: now, lastError: null })
  deps.log?.info({ ...log, attempts }, 'notification sent')
  return { result: 'sent' }
}

/**
 * The SMTP code and response of a failure, with any address removed (servers often quote the
 * recipient). A 5xx reply is permanent, except to AUTH: wrong credentials are our configuration,
 * not the message, and are retried like an outage (up to the attempt cap).
 */
function describeSmtpError(error: unknown): { permanent: boolean; text: string } {
  const e = (typeof error === 'object' && error !== null ? error : {}) as {
    code?: unknown
    responseCode?: unknown
    response?: unknown
    message?: unknown
  }
  const code = typeof e.code === 'string' ? e.code : 'ERROR'
  const responseCode = typeof e.responseCode === 'number' ? e.responseCode : undefined
  const detail =
    typeof e.response === 'string'
      ? e.response
      : typeof e.message === 'string'
        ? e.message
        : String(error)
  const text = redact(`${code}${responseCode ? ` ${responseCode}` : ''}: ${detail}`)
  const permanent =
    responseCode !== undefined && responseCode >= 500 && responseCode < 600 && code !== 'EAUTH'
  return { permanent, text }
}

function redact(text: string): string {
  return text
    .replace(/<?[^\s<>@"]+@[^\s<>@"]+>?/g, '<address>')
    .replace(/\s+/g, ' ')
    .slice(0, 500)
}

function retryFailure(outcome: Extract<Attempt, { result: 'retry' }>): ApplicationFailure {
  return ApplicationFailure.create({
    message: `notification ${outcome.outboxId} not delivered (attempt ${outcome.attempts}): ${outcome.error}`,
    type: 'NotificationRetryLater',
    // Temporal comes back exactly when the outbox says the row is due.
    nextRetryDelay: outcome.delayMs,
  })
}

function keyHash(dedupeKey: string): string {
  return createHash('sha256').update(dedupeKey).digest('hex').slice(0, 32)
}
