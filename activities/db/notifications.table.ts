import type { ColumnType, Generated } from 'kysely'
import type { DefaultedTimestamp, Timestamp } from './columns'

/** The notification outbox: one row per message, delivered once by the dispatcher. */

export interface NotificationOutboxTable {
  id: Generated<string>
  dedupeKey: string
  caseId: string | null
  template: string
  locale: Generated<string>
  channel: Generated<string>
  recipient: string
  params: ColumnType<unknown, object | undefined, object>
  status: Generated<'pending' | 'sending' | 'sent' | 'failed'>
  attempts: Generated<number>
  lastError: string | null
  messageId: string | null
  createdAt: DefaultedTimestamp
  nextAttemptAt: DefaultedTimestamp
  sentAt: Timestamp | null
}
