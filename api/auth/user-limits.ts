import type { MiddlewareHandler } from 'hono'
import type { Logger } from '../../activities/infra/logger'
import { ApiError } from '../errors'
import { createRateLimiter } from './throttle'
import type { AppEnv } from './types'

export interface UserLimits {
  /**
   * Requests per minute per signed-in user (a runaway script, a scraper); unset: none here (the
   * reverse proxy's limit applies; partner systems and benchmarks legitimately send many).
   */
  requestsPerMinute?: number
  /**
   * Refusals (404: hidden or missing alike) per minute per user before their requests are held
   * back: every refusal writes an `access_audit` row, and probing ids must not flood it.
   */
  refusalsPerMinute: number
}

export const DEFAULT_USER_LIMITS: UserLimits = { refusalsPerMinute: 300 }

/**
 * Per-user limits on the authenticated API, after `requireAuth`: past either limit the user's
 * requests answer 429 with Retry-After, before any route runs (so nothing more is audited until
 * the window passes; the hold itself is logged, without personal data). Missing and hidden ids
 * count the same, so the limit tells nothing about which ids exist. In this process's memory:
 * several API processes each count on their own.
 */
export function userLimits(
  limits: UserLimits = DEFAULT_USER_LIMITS,
  opts: { now?: () => Date; log?: Logger } = {},
): MiddlewareHandler<AppEnv> {
  const now = opts.now ?? (() => new Date())
  const requests = limits.requestsPerMinute
    ? createRateLimiter({ limit: limits.requestsPerMinute, windowMs: 60_000, now })
    : null
  // Held back as the limit-th refusal is answered: the one that would pass it never runs.
  const refusals = createRateLimiter({
    limit: Math.max(1, limits.refusalsPerMinute - 1),
    windowMs: 60_000,
    now,
  })
  /** Users held back for refusals, until when (ms): checked before the route runs. */
  const held = new Map<string, number>()
  return async (c, next) => {
    const user = c.get('user')
    const t = now().getTime()
    const until = held.get(user.id)
    if (until !== undefined && until > t) {
      c.header('Retry-After', String(Math.max(1, Math.ceil((until - t) / 1000))))
      throw new ApiError(429, 'RATE_LIMITED', 'Too many refused requests: wait before retrying')
    }
    if (until !== undefined) held.delete(user.id)
    const counted = requests?.hit(user.id) ?? { allowed: true as const }
    if (!counted.allowed) {
      c.header('Retry-After', String(counted.retryAfterSeconds))
      throw new ApiError(429, 'RATE_LIMITED', 'Too many requests: wait before retrying')
    }
    await next()
    if (c.res.status !== 404) return
    const refused = refusals.hit(user.id)
    if (!refused.allowed) {
      held.set(user.id, t + refused.retryAfterSeconds * 1000)
      // Bounded like the limiters: a flood of users cannot grow it without end.
      if (held.size > 10_000) held.delete(held.keys().next().value!)
      opts.log?.warn({ userId: user.id }, 'user held back: too many refused requests')
    }
  }
}
