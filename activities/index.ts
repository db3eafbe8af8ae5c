import { Context } from '@temporalio/activity'
import type { Transporter } from 'nodemailer'
import { createCaseContextActivities } from './case-context'
import type { FieldCipher } from './crypto/field-cipher'
import type { Db } from './db/db'
import type { Logger } from './infra/logger'
import { createNotificationActivities } from './notifications/deliver'
import { createNotificationDispatcher } from './notifications/sweeper'
import { createProjectionActivities } from './projection'
import { createCaseProjectionActivities } from './case-projection'
import { createRegistryClient, type RegistryClient } from './registry'
import { createReverificationActivities } from './reverification'
import type { Client } from '@temporalio/client'
import { createReferralActivities } from './referrals/activities'
import type { Resolve, WebhookPolicy } from './referrals/webhook-target'
import { createAppealActivities } from './appeals/activities'
import { createRetentionActivities } from './retention/anonymise'

export interface ActivityDeps {
  db: Db
  /** Encrypts sensitive fields at rest (contacts, recipients). */
  cipher: FieldCipher
  mail: { transport: Transporter; from: string }
  /** Base URL of the console, for links in emails. */
  publicUrl?: string
  log?: Logger
  /** The social registry; absent, the households table stands in for it. */
  registry?: RegistryClient
  /** For activities that start workflows (campaigns, recertification sweeps). */
  temporal?: { client: Client; taskQueue: string }
  /** Wakes the notification dispatcher once a projection queued outbox rows. */
  dispatchNotifications?: () => void
  /** Where partner webhooks may point (config); unset: https only, any public host. */
  partnerWebhooks?: WebhookPolicy
  /** Resolves webhook hosts before each delivery (tests give their own); unset: the system's. */
  resolveWebhookHost?: Resolve
}

/**
 * Heartbeats every 2 s while `work` runs, so that an attempt lost with a killed worker is
 * noticed after the heartbeat timeout (seconds), not after the whole start-to-close timeout.
 */
async function withHeartbeat<T>(work: () => Promise<T>): Promise<T> {
  const context = Context.current()
  const timer = setInterval(() => context.heartbeat(), 2_000)
  try {
    return await work()
  } finally {
    clearInterval(timer)
  }
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  const notifications = createNotificationActivities({
    db: deps.db,
    transport: deps.mail.transport,
    from: deps.mail.from,
    log: deps.log,
    cipher: deps.cipher,
  })
  // Notifications a projection queued go out beside the case, not as activities of its workflow.
  const dispatcher = createNotificationDispatcher(
    {
      db: deps.db,
      transport: deps.mail.transport,
      from: deps.mail.from,
      log: deps.log,
      cipher: deps.cipher,
    },
    deps.log,
  )
  return {
    ...createProjectionActivities({ db: deps.db, publicUrl: deps.publicUrl, cipher: deps.cipher }),
    ...createCaseProjectionActivities({
      db: deps.db,
      publicUrl: deps.publicUrl,
      cipher: deps.cipher,
      dispatch: deps.dispatchNotifications ?? (() => dispatcher.wake()),
    }),
    ...createCaseContextActivities({ db: deps.db }),
    ...createReferralActivities({
      db: deps.db,
      cipher: deps.cipher,
      publicUrl: deps.publicUrl,
      log: deps.log,
      webhooks: deps.partnerWebhooks,
      resolve: deps.resolveWebhookHost,
    }),
    ...createAppealActivities({ db: deps.db, cipher: deps.cipher, publicUrl: deps.publicUrl }),
    ...createRetentionActivities({ db: deps.db }),
    ...createReverificationActivities({
      db: deps.db,
      registry: deps.registry ?? createRegistryClient(undefined, deps.db),
      temporal: deps.temporal,
      log: deps.log,
    }),
    deliverNotification: (dedupeKey: string) =>
      withHeartbeat(() => notifications.deliverNotification(dedupeKey)),
  }
}

/** The activity interface workflows proxy (`import type` only: no side effects in workflows). */
export type CaseActivities = ReturnType<typeof createActivities>
