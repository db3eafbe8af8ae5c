import type { Payload, PayloadCodec } from '@temporalio/common'
import { Hono, type Context, type MiddlewareHandler } from 'hono'
import { cors } from 'hono/cors'
import { z } from 'zod'
import type { Db } from '../../activities/db/db'
import { firstLine } from '../../activities/infra/errors'
import { authenticate } from '../auth/middleware'
import { clientAddress, createRateLimiter } from '../auth/throttle'
import type { AuthUser } from '../auth/types'
import { ApiError, errorBody } from '../errors'

// Proto3 JSON bytes: standard or URL-safe base64, padding optional.
const Base64 = z.string().regex(/^[A-Za-z0-9+/_-]*={0,2}$/, { error: 'must be base64' })

/** The JSON form of Temporal Payloads, as the Web UI and the CLI send them. */
const PayloadsBody = z.object({
  payloads: z.array(
    z.object({ metadata: z.record(z.string(), Base64).optional(), data: Base64.optional() }),
  ),
})
type PayloadsJson = z.infer<typeof PayloadsBody>

const fromJson = ({ payloads }: PayloadsJson): Payload[] =>
  payloads.map(({ metadata = {}, data = '' }) => ({
    metadata: Object.fromEntries(
      Object.entries(metadata).map(([key, value]) => [key, Buffer.from(value, 'base64')]),
    ),
    data: Buffer.from(data, 'base64'),
  }))

const base64 = (bytes: Uint8Array | null | undefined) => Buffer.from(bytes ?? []).toString('base64')

const toJson = (payloads: Payload[]): PayloadsJson => ({
  payloads: payloads.map(({ metadata, data }) => ({
    metadata: Object.fromEntries(
      Object.entries(metadata ?? {}).map(([key, value]) => [key, base64(value)]),
    ),
    data: base64(data),
  })),
})

/** Decode or encode requests per operator per minute: a Web UI page sends one per event. */
export const CODEC_LIMIT_PER_MINUTE = 600
/** Refused (unauthenticated) requests per client address per minute. */
export const CODEC_REFUSED_PER_MINUTE = 60

/** Host names the API answers the codec on when no public URL is configured. */
export const LOOPBACK_HOSTS = ['127.0.0.1', 'localhost', '[::1]']

/** The host name of a Host header (`name:port`, `[v6]:port`), lowercased. */
const hostName = (host: string) => {
  const h = host.trim().toLowerCase()
  return h.startsWith('[') ? h.slice(0, h.indexOf(']') + 1) : h.split(':')[0]!
}

/** The workflow a Web UI page names in its URL (`…/workflows/<id>/<run>/…`), when sent. */
const workflowFromReferer = (referer: string | undefined): string[] => {
  if (!referer) return []
  try {
    const parts = new URL(referer).pathname.split('/')
    const at = parts.indexOf('workflows')
    const id = at >= 0 ? decodeURIComponent(parts[at + 1] ?? '') : ''
    return id && /^[\x20-\x7e]{1,200}$/.test(id) ? [id] : []
  } catch {
    return []
  }
}

export interface CodecDeps {
  db: Db
  codec: PayloadCodec
  /** Browser origins of the Temporal Web UI allowed to call (CORS with credentials). */
  allowedOrigins: string[]
  /** Host names this endpoint answers on (DNS rebinding defence). */
  allowedHosts: string[]
  now?: () => Date
  limits?: { perMinute: number; refusedPerMinute: number }
}

/**
 * Temporal's remote codec server protocol (`POST /encode`, `POST /decode`), so that the Temporal
 * Web UI and CLI show an operator decrypted payloads while the Temporal server itself only ever
 * stores ciphertext (DESIGN §5). Decoding reveals what complainants wrote, so every request:
 * - is answered only on a configured host name (a rebound DNS name is refused);
 * - comes from no browser origin (the CLI) or from a listed Temporal Web UI origin, which gets
 *   CORS with credentials (the UI's "include cross-origin credentials" sends our session cookie);
 * - is authenticated as a Temporal operator (`can_decode_payloads`) with the second factor
 *   passed: a browser session, or a codec token issued by such a session (`POST
 *   /api/auth/codec-token`), never a system's token; a socket on this machine proves nothing
 *   (behind a reverse proxy every caller is local);
 * - is rate-limited per operator, and per address while refused;
 * - is audited in `codec_audit`: who, how many payloads, the namespace, the workflow when the
 *   caller names it.
 */
export function codecRoutes(deps: CodecDeps) {
  const now = deps.now ?? (() => new Date())
  const limits = deps.limits ?? {
    perMinute: CODEC_LIMIT_PER_MINUTE,
    refusedPerMinute: CODEC_REFUSED_PER_MINUTE,
  }
  const perUser = createRateLimiter({ limit: limits.perMinute, windowMs: 60_000, now })
  const refused = createRateLimiter({ limit: limits.refusedPerMinute, windowMs: 60_000, now })
  const hosts = new Set(deps.allowedHosts.map(hostName))
  const adb = deps.db

  const audit = (row: {
    user: AuthUser
    direction: 'encode' | 'decode'
    outcome: 'ok' | 'forbidden' | 'failed' | 'rate_limited'
    payloadCount: number
    c: Context
  }) => {
    const namespace = row.c.req.header('x-namespace')
    return adb
      .insertInto('codecAudit')
      .values({
        userId: row.user.id,
        direction: row.direction,
        outcome: row.outcome,
        payloadCount: row.payloadCount,
        namespace: namespace && /^[\x20-\x7e]{1,200}$/.test(namespace) ? namespace : null,
        workflowIds: workflowFromReferer(row.c.req.header('referer')),
        via: row.user.via,
      })
      .execute()
  }

  const guard: MiddlewareHandler = async (c, next) => {
    // A DNS name rebound to this machine reaches us with its own Host: never answered.
    if (!hosts.has(hostName(c.req.header('host') ?? new URL(c.req.url).host))) {
      throw new ApiError(403, 'HOST_NOT_ALLOWED', 'This host name does not serve the codec')
    }
    const origin = c.req.header('origin')
    if (origin !== undefined && !deps.allowedOrigins.includes(origin)) {
      throw new ApiError(403, 'ORIGIN_NOT_ALLOWED', 'Only the Temporal Web UI may call the codec')
    }
    await next()
  }

  const transform = (direction: 'encode' | 'decode') => async (c: Context) => {
    let auth
    try {
      // No CSRF header: the Web UI cannot send one; the Origin check above stands in for it.
      auth = await authenticate(
        c,
        { db: deps.db, now },
        { scope: 'temporal_codec', skipCsrf: true },
      )
    } catch (error) {
      const verdict = refused.hit(clientAddress(c))
      if (!verdict.allowed) {
        c.header('Retry-After', String(verdict.retryAfterSeconds))
        throw new ApiError(429, 'TOO_MANY_REQUESTS', 'Too many refused requests: wait')
      }
      throw error
    }
    const { user } = auth
    // A session whose second factor is owed was refused by authenticate (operators owe one).
    if (!user.canDecodePayloads) {
      await audit({ user, direction, outcome: 'forbidden', payloadCount: 0, c })
      throw new ApiError(403, 'NOT_AN_OPERATOR', 'Decoding payloads is for Temporal operators')
    }
    const verdict = perUser.hit(user.id)
    if (!verdict.allowed) {
      await audit({ user, direction, outcome: 'rate_limited', payloadCount: 0, c })
      c.header('Retry-After', String(verdict.retryAfterSeconds))
      throw new ApiError(429, 'TOO_MANY_REQUESTS', 'Too many codec requests: wait and try again')
    }
    let json: unknown
    try {
      json = await c.req.json()
    } catch {
      return c.json(errorBody('INVALID_BODY', 'Body must be JSON'), 400)
    }
    const body = PayloadsBody.safeParse(json)
    if (!body.success) {
      const issue = body.error.issues[0]
      const where = issue?.path.length ? `${issue.path.join('.')}: ` : ''
      return c.json(errorBody('INVALID_BODY', `${where}${issue?.message ?? 'invalid body'}`), 400)
    }
    const payloadCount = body.data.payloads.length
    try {
      const answer = toJson(await deps.codec[direction](fromJson(body.data)))
      await audit({ user, direction, outcome: 'ok', payloadCount, c })
      c.header('Cache-Control', 'no-store')
      return c.json(answer, 200)
    } catch (error) {
      await audit({ user, direction, outcome: 'failed', payloadCount, c })
      // The codec's own messages name at most a key id; no stack trace leaves the server.
      return c.json(errorBody('CODEC_FAILED', `Cannot ${direction}: ${firstLine(error)}`), 422)
    }
  }
  return new Hono()
    .use(guard)
    .use(
      // The UI calls from the browser, with our session cookie ("include cross-origin
      // credentials"): only listed origins, which may send the headers the UI sends.
      cors({
        origin: deps.allowedOrigins,
        allowHeaders: ['content-type', 'x-namespace', 'authorization'],
        allowMethods: ['POST', 'OPTIONS'],
        credentials: true,
        maxAge: 600,
      }),
    )
    .post('/encode', transform('encode'))
    .post('/decode', transform('decode'))
}
