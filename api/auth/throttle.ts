import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context } from 'hono'

/**
 * A sliding-window rate limiter held in this process's memory: addresses are never written to the
 * database (DESIGN §5), and are forgotten once their window has passed. With several API
 * processes each one counts on its own, so the effective limit is multiplied by their number.
 */
export function createRateLimiter(opts: { limit: number; windowMs: number; now: () => Date }) {
  const hits = new Map<string, number[]>()
  const sweep = (t: number) => {
    for (const [key, times] of hits) {
      if ((times.at(-1) ?? 0) <= t - opts.windowMs) hits.delete(key)
    }
  }
  return {
    /** Counts an attempt for `key`; when over the limit, the seconds to wait instead. */
    hit(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
      const t = opts.now().getTime()
      if (hits.size > 10_000) sweep(t)
      const times = (hits.get(key) ?? []).filter((at) => at > t - opts.windowMs)
      if (times.length >= opts.limit) {
        hits.set(key, times)
        const retryMs = times[0]! + opts.windowMs - t
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) }
      }
      times.push(t)
      hits.set(key, times)
      return { allowed: true }
    },
  }
}

/**
 * The client's address as seen by the Node server. Requests that do not come through
 * `@hono/node-server` (`app.request` in tests) have none and share one key. Behind a reverse
 * proxy every client has the proxy's address: the proxy must then rate-limit itself.
 */
export function clientAddress(c: Context): string {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}
