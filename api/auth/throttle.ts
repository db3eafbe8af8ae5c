import { isIP } from 'node:net'
import { getConnInfo } from '@hono/node-server/conninfo'
import type { Context, MiddlewareHandler } from 'hono'

/** Keys a limiter remembers at most: past it, the least recently seen ones are forgotten. */
export const LIMITER_MAX_KEYS = 10_000

/**
 * A sliding-window rate limiter held in this process's memory: addresses are never written to the
 * database (DESIGN §5), and are forgotten once their window has passed. Its memory is bounded:
 * past `maxKeys` keys the least recently seen key not being held back is dropped (never the
 * whole map: a flood of new addresses must not reset the count of the one being limited). With several API
 * processes each one counts on its own, so the effective limit is multiplied by their number.
 */
export function createRateLimiter(opts: {
  limit: number
  windowMs: number
  now: () => Date
  maxKeys?: number
}) {
  const maxKeys = opts.maxKeys ?? LIMITER_MAX_KEYS
  // A Map iterates in insertion order: re-inserting a key on each hit keeps it least-recent-first.
  const hits = new Map<string, number[]>()
  return {
    /** Counts an attempt for `key`; when over the limit, the seconds to wait instead. */
    hit(key: string): { allowed: true } | { allowed: false; retryAfterSeconds: number } {
      const t = opts.now().getTime()
      const times = (hits.get(key) ?? []).filter((at) => at > t - opts.windowMs)
      hits.delete(key)
      if (times.length >= opts.limit) {
        hits.set(key, times)
        const retryMs = times[0]! + opts.windowMs - t
        return { allowed: false, retryAfterSeconds: Math.max(1, Math.ceil(retryMs / 1000)) }
      }
      times.push(t)
      hits.set(key, times)
      // Forget the keys whose window has passed (the least recent come first)...
      for (const [oldest, seen] of hits) {
        if ((seen.at(-1) ?? 0) > t - opts.windowMs) break
        hits.delete(oldest)
      }
      // ...and past the bound, the least recent key that is not being held back: a flood of new
      // addresses must not make the limiter forget the one it is limiting.
      if (hits.size > maxKeys) {
        let evicted = false
        for (const [candidate, seen] of hits) {
          if (seen.length < opts.limit) {
            hits.delete(candidate)
            evicted = true
            break
          }
        }
        if (!evicted) hits.delete(hits.keys().next().value!)
      }
      return { allowed: true }
    },
    /** How many keys are remembered (for tests and metrics). */
    get size() {
      return hits.size
    },
  }
}

/**
 * Which forwarded address counts as the client's (TRUST_PROXY): none (the socket's address; the
 * default), the number of proxies in front of us (the address that many hops from the right of
 * X-Forwarded-For), or the proxies' addresses (CIDR ranges: the right-most address of
 * X-Forwarded-For not in them).
 */
export type TrustProxy = { hops: number } | { cidrs: string[] } | null

const toBigInt = (address: string): { v: bigint; bits: number } | null => {
  const plain =
    address.startsWith('::ffff:') && isIP(address.slice(7)) === 4 ? address.slice(7) : address
  if (isIP(plain) === 4) {
    return { v: plain.split('.').reduce((a, b) => (a << 8n) | BigInt(Number(b)), 0n), bits: 32 }
  }
  if (isIP(plain) !== 6) return null
  const [head, tail = ''] = plain.split('::')
  const parts = (s: string) => (s ? s.split(':') : [])
  const h = parts(head!)
  const tl = parts(tail)
  const groups = plain.includes('::')
    ? [...h, ...Array(8 - h.length - tl.length).fill('0'), ...tl]
    : h
  return { v: groups.reduce((a, g) => (a << 16n) | BigInt(parseInt(g || '0', 16)), 0n), bits: 128 }
}

/** Whether `address` is within `cidr` (`10.0.0.0/8`, `::1/128`, or a bare address). */
export function inCidr(address: string, cidr: string): boolean {
  const [base, prefix] = cidr.split('/')
  const a = toBigInt(address)
  const b = toBigInt(base!)
  if (!a || !b || a.bits !== b.bits) return false
  const len = prefix === undefined ? b.bits : Number(prefix)
  const shift = BigInt(b.bits - len)
  return a.v >> shift === b.v >> shift
}

const socketAddress = (c: Context) => {
  try {
    return getConnInfo(c).remote.address ?? 'unknown'
  } catch {
    return 'unknown'
  }
}

/** The client's address under a TRUST_PROXY setting (see TrustProxy). */
export function resolveClientAddress(c: Context, trust: TrustProxy): string {
  const socket = socketAddress(c)
  if (!trust) return socket
  const forwarded = (c.req.header('x-forwarded-for') ?? '')
    .split(',')
    .map((a) => a.trim())
    .filter((a) => isIP(a) !== 0)
  const chain = [...forwarded, socket]
  if ('hops' in trust) {
    // The socket is the last proxy; each trusted hop appended the address it saw.
    return chain[Math.max(0, chain.length - 1 - trust.hops)] ?? socket
  }
  for (let i = chain.length - 1; i >= 0; i--) {
    if (!trust.cidrs.some((cidr) => inCidr(chain[i]!, cidr))) return chain[i]!
  }
  return chain[0] ?? socket
}

/** Stores the client's address for the request (see clientAddress), once, at the edge. */
export function clientAddressMiddleware(trust: TrustProxy): MiddlewareHandler {
  return async (c, next) => {
    c.set('clientAddress' as never, resolveClientAddress(c, trust) as never)
    await next()
  }
}

/**
 * The client's address: as decided at the edge under TRUST_PROXY, or the socket's address.
 * Requests that do not come through `@hono/node-server` (`app.request` in tests) have none and
 * share one key.
 */
export function clientAddress(c: Context): string {
  return (c.get('clientAddress' as never) as string | undefined) ?? socketAddress(c)
}
