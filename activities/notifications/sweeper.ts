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

/**
 * Delivers what a projection just queued, in the worker but outside the case's workflow (the case
 * is never woken per email): `wake()` starts a sweep of due rows, or one more after the running
 * one. Rows are locked per delivery, so several workers and the periodic sweeper never send the
 * same row twice; a crash mid-send is recorded by the next sweep.
 */
export function createNotificationDispatcher(deps: NotificationDeps, log?: Logger) {
  let running: Promise<void> | undefined
  let again = false
  const sweep = async () => {
    do {
      again = false
      await deliverDueNotifications(deps).catch((error: unknown) =>
        log?.warn({ err: error }, 'notification dispatch failed'),
      )
    } while (again)
    running = undefined
  }
  return {
    wake() {
      if (running) again = true
      else running = sweep()
    },
    async stop() {
      await running
    },
  }
}
