import type { Logger } from '../infra/logger'
import { deliverDueNotifications, type NotificationDeps } from './deliver'

/**
 * Every minute, delivers outbox rows whose activity was lost or whose retry is due, so that no
 * notification stays pending forever. Safe with many workers: rows are locked with SKIP LOCKED.
 */
export function startNotificationSweeper(deps: NotificationDeps, log: Logger, everyMs = 60_000) {
  let running: Promise<unknown> = Promise.resolve()
  const timer = setInterval(() => {
    running = deliverDueNotifications(deps).catch((error: unknown) =>
      log.warn({ err: error }, 'notification sweep failed'),
    )
  }, everyMs)
  timer.unref()
  return {
    async stop() {
      clearInterval(timer)
      await running
    },
  }
}
