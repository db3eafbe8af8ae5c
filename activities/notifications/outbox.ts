import type { Kysely, Transaction } from 'kysely'
import type { FieldCipher } from '../crypto/field-cipher'
import type { Database } from '../db/schema'
import {
  isTemplateName,
  renderNotification,
  sanitizeTemplateParams,
  type TemplateName,
  type TemplateParams,
} from './templates'

/** One email to send about a business event. */
export interface NotificationRequest {
  /**
   * Deterministic per business event and recipient, e.g. `<workflowId>:<eventSeq>:<userId>`:
   * a projection retried after a crash produces the same key and queues nothing twice. Prefer a
   * user id or role code to an address: the key travels in activity inputs and logs.
   */
  dedupeKey: string
  caseId: string | null
  template: TemplateName
  locale: 'fr' | 'en'
  recipient: string
  params: TemplateParams
}

// Deliberately simple: one address, no display name, no spaces or list separators.
const EMAIL = /^[^\s@<>()[\]",;:\\]+@[^\s@<>()[\]",;:\\]+\.[^\s@<>()[\]",;:\\]+$/

/**
 * Queues notifications in the outbox, in the caller's transaction, so that a business event and
 * the emails it causes are committed together or not at all. Idempotent: a dedupe key already
 * queued is left as it is (ON CONFLICT DO NOTHING). Every item is checked before anything is
 * written (recipient address, template, locale, renderable parameters); one bad item refuses the
 * whole batch with an error rather than silently dropping a notification. Only the fields of
 * `TemplateParams` are stored.
 */
export async function queueNotifications(
  trx: Kysely<Database> | Transaction<Database>,
  items: NotificationRequest[],
  options: { cipher?: FieldCipher } = {},
): Promise<void> {
  if (items.length === 0) return
  const rows = items.map((item, index) => {
    // Error messages name the item's position, never its address or parameters (logs are read).
    const where = `notification #${index}`
    if (typeof item.dedupeKey !== 'string' || item.dedupeKey.length === 0) {
      throw new Error(`${where}: dedupeKey is required`)
    }
    if (item.dedupeKey.length > 300) throw new Error(`${where}: dedupeKey is too long`)
    if (!isTemplateName(item.template)) throw new Error(`${where}: unknown template`)
    if (item.locale !== 'fr' && item.locale !== 'en') throw new Error(`${where}: unknown locale`)
    if (
      typeof item.recipient !== 'string' ||
      item.recipient.length > 254 ||
      !EMAIL.test(item.recipient)
    ) {
      throw new Error(`${where}: recipient is not an email address`)
    }
    let params: TemplateParams
    try {
      params = sanitizeTemplateParams(item.params)
      // Rendering now means a queued notification can always be rendered when it is delivered.
      renderNotification(item.template, item.locale, params)
    } catch (error) {
      throw new Error(
        `${where}: ${error instanceof Error ? error.message : 'invalid parameters'}`,
        {
          cause: error,
        },
      )
    }
    return {
      dedupeKey: item.dedupeKey,
      caseId: item.caseId,
      template: item.template,
      locale: item.locale,
      channel: 'email',
      // An address is personal data: encrypted at rest when the cipher is given (production).
      recipient: options.cipher ? options.cipher.encrypt(item.recipient) : item.recipient,
      params: { ...params },
    }
  })
  await trx
    .insertInto('notificationOutbox')
    .values(rows)
    // The dedupe key is the idempotency key: a retried projection finds its rows already queued.
    .onConflict((oc) => oc.column('dedupeKey').doNothing())
    .execute()
}
