import type { Transporter } from 'nodemailer'
import { createCaseContextActivities } from './case-context'
import type { Db } from './db/db'
import type { Logger } from './infra/logger'
import { createNotificationActivities } from './notifications/deliver'
import { createProjectionActivities } from './projection'

export interface ActivityDeps {
  db: Db
  mail: { transport: Transporter; from: string }
  /** Base URL of the console, for links in emails. */
  publicUrl?: string
  log?: Logger
}

/** Every activity the worker registers, built from injected dependencies. */
export function createActivities(deps: ActivityDeps) {
  return {
    ...createProjectionActivities({ db: deps.db, publicUrl: deps.publicUrl }),
    ...createCaseContextActivities({ db: deps.db }),
    ...createNotificationActivities({
      db: deps.db,
      transport: deps.mail.transport,
      from: deps.mail.from,
      log: deps.log,
    }),
  }
}

/** The activity interface workflows proxy (`import type` only: no side effects in workflows). */
export type CaseActivities = ReturnType<typeof createActivities>
