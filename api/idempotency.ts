import { createHash } from 'node:crypto'
import type { MiddlewareHandler } from 'hono'
import { sql } from 'kysely'
import type { ContentfulStatusCode } from 'hono/utils/http-status'
import type { FieldCipher } from '../activities/crypto/field-cipher'
import type { Db } from '../activities/db/db'
import type { AppEnv } from './auth/types'
import { ApiError } from './errors'

export interface IdempotencyOptions {
  db: Db
  /** How long a repetition waits for the first request's answer before a 409. */
  waitMs?: number
  /** An unfinished first request older than this is presumed dead (its process crashed). */
  staleMs?: number
  /** Keys are remembered this long; an older key is free again. */
  ttlMs?: number
  /**
   * Seals the stored answers at rest (an intake's answer holds the tracking PIN, which the case
   * itself keeps only as a hash); without it they are stored as they are.
   */
  cipher?: Pick<FieldCipher, 'encrypt' | 'decrypt'>
}

const KEY_PATTERN = /^[\x21-\x7e]{1,255}$/

/** Sorted keys, so that `{"a":1,"b":2}` and `{"b":2, "a":1}` are the same request. */
function canonical(value: unknown): unknown {
  if (Array.isArray(value)) return value.map(canonical)
  if (value && typeof value === 'object') {
    return Object.fromEntries(
      Object.keys(value)
        .sort()
        .map((k) => [k, canonical((value as Record<string, unknown>)[k])]),
    )
  }
  return value
}

function requestHash(method: string, path: string, body: string): string {
  let normal = body
  try {
    normal = JSON.stringify(canonical(JSON.parse(body)))
  } catch {
    // Not JSON: the raw bytes are the request.
  }
  return createHash('sha256').update(`${method}\n${path}\n${normal}`).digest('hex')
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/**
 * `Idempotency-Key` on writes (DESIGN §6): a client retrying after a lost answer gets the first
 * answer again instead of a second effect. Keys belong to the authenticated user.
 * - same key, same method, path and body → the stored answer, with `Idempotent-Replayed: true`;
 * - same key, another body (or route) → 422 `IDEMPOTENCY_KEY_REUSED`;
 * - concurrent requests with one key: the primary key lets exactly one insert win and execute;
 *   the others wait for its answer and replay it (409 `IDEMPOTENCY_KEY_IN_PROGRESS` only if it
 *   takes longer than `waitMs`).
 * Answers below 500 are stored (a refusal is an answer); a 5xx or a crash frees the key, so a
 * retry executes again.
 */
export function idempotency(options: IdempotencyOptions): MiddlewareHandler<AppEnv> {
  const db = options.db
  const waitMs = options.waitMs ?? 30_000
  const staleMs = options.staleMs ?? 5 * 60_000
  const ttlMs = options.ttlMs ?? 24 * 3600_000

  return async (c, next) => {
    const key = c.req.header('Idempotency-Key')
    if (key === undefined) return next()
    if (!KEY_PATTERN.test(key)) {
      throw new ApiError(
        400,
        'INVALID_IDEMPOTENCY_KEY',
        'Idempotency-Key: 1 to 255 visible ASCII',
        [{ path: 'Idempotency-Key', message: 'expected 1 to 255 visible ASCII characters' }],
      )
    }
    const userId = c.get('user').id
    const method = c.req.method
    const path = c.req.path
    const hash = requestHash(method, path, await c.req.text())
    const deadline = Date.now() + waitMs

    for (;;) {
      const won = await db
        .insertInto('idempotencyKeys')
        .values({ userId, key, method, path, requestHash: hash, status: null, response: null })
        .onConflict((oc) => oc.columns(['userId', 'key']).doNothing())
        .returning('key')
        .executeTakeFirst()
      if (won) break
      const row = await db
        .selectFrom('idempotencyKeys')
        .selectAll()
        .where('userId', '=', userId)
        .where('key', '=', key)
        .executeTakeFirst()
      if (!row) continue // the first request failed and freed the key: try to take it
      const age = Date.now() - row.createdAt.getTime()
      if (age > ttlMs || (row.status === null && age > staleMs)) {
        await db
          .deleteFrom('idempotencyKeys')
          .where('userId', '=', userId)
          .where('key', '=', key)
          .where((eb) =>
            eb.or([
              eb('createdAt', '<', new Date(Date.now() - ttlMs)),
              eb.and([
                eb('status', 'is', null),
                eb('createdAt', '<', new Date(Date.now() - staleMs)),
              ]),
            ]),
          )
          .execute()
        continue
      }
      if (row.requestHash !== hash) {
        throw new ApiError(
          422,
          'IDEMPOTENCY_KEY_REUSED',
          'This Idempotency-Key was used for another request',
        )
      }
      if (row.status !== null) {
        c.header('Idempotent-Replayed', 'true')
        return c.json(unseal(row.response) as object, row.status as ContentfulStatusCode)
      }
      if (Date.now() > deadline) {
        throw new ApiError(
          409,
          'IDEMPOTENCY_KEY_IN_PROGRESS',
          'A request with this Idempotency-Key is still running; retry later',
        )
      }
      await sleep(50)
    }

    try {
      await next()
    } catch (error) {
      await free(userId, key)
      throw error
    }
    const res = c.res
    if (res.status >= 500) {
      await free(userId, key)
      return
    }
    const text = await res.clone().text()
    let response: unknown
    try {
      response = JSON.parse(text)
    } catch {
      response = { body: text }
    }
    await db
      .updateTable('idempotencyKeys')
      .set({
        status: res.status,
        // Serialised here, sent as text: postgres.js would send an array as a PostgreSQL array.
        response: sql`${JSON.stringify(seal(response))}::text::json`,
        completedAt: new Date(),
      })
      .where('userId', '=', userId)
      .where('key', '=', key)
      .execute()
  }

  function seal(response: unknown): unknown {
    return options.cipher ? { sealed: options.cipher.encrypt(JSON.stringify(response)) } : response
  }

  function unseal(stored: unknown): unknown {
    const sealed = (stored as { sealed?: unknown } | null)?.sealed
    if (typeof sealed !== 'string') return stored
    if (!options.cipher) throw new Error('a sealed idempotent answer needs the data keys')
    return JSON.parse(options.cipher.decrypt(sealed))
  }

  async function free(userId: string, key: string) {
    await db
      .deleteFrom('idempotencyKeys')
      .where('userId', '=', userId)
      .where('key', '=', key)
      .execute()
  }
}

/** Forgets keys older than `ttlMs`: for a periodic job; lookups already ignore them. */
export async function purgeIdempotencyKeys(db: Db, ttlMs = 24 * 3600_000): Promise<number> {
  const result = await db
    .deleteFrom('idempotencyKeys')
    .where('createdAt', '<', new Date(Date.now() - ttlMs))
    .executeTakeFirst()
  return Number(result.numDeletedRows)
}
