import type { Client } from '@temporalio/client'
import { Hono } from 'hono'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { loadConfig } from '../../activities/config'
import { createApp } from '../../api/app'
import {
  clientAddressMiddleware,
  createRateLimiter,
  clientAddress,
  type TrustProxy,
} from '../../api/auth/throttle'
import { SIGN_IN_LIMIT } from '../../api/routes/auth'
import { fromAddress } from '../helpers/api'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { connectTestClient } from '../helpers/temporal'

/** What address a request counts as, under a TRUST_PROXY setting. */
async function seenAs(trust: TrustProxy, socket: string, forwardedFor?: string) {
  const app = new Hono()
    .use(clientAddressMiddleware(trust))
    .get('/', (c) => c.text(clientAddress(c)))
  const res = await app.request(
    '/',
    { headers: forwardedFor ? { 'x-forwarded-for': forwardedFor } : {} },
    fromAddress(socket),
  )
  return res.text()
}

describe('TRUST_PROXY decides which forwarded address is the client', () => {
  it('trusts no header by default: the socket is the client', async () => {
    expect(await seenAs(null, '127.0.0.1', '203.0.113.9')).toBe('127.0.0.1')
  })

  it('with a number of proxies, takes the address that many hops from the right', async () => {
    expect(await seenAs({ hops: 1 }, '127.0.0.1', '203.0.113.9')).toBe('203.0.113.9')
    // A client that sends its own X-Forwarded-For only adds addresses on the left.
    expect(await seenAs({ hops: 1 }, '127.0.0.1', '1.2.3.4, 203.0.113.9')).toBe('203.0.113.9')
    expect(await seenAs({ hops: 2 }, '127.0.0.1', '1.2.3.4, 203.0.113.9, 10.0.0.5')).toBe(
      '203.0.113.9',
    )
  })

  it("with the proxies' ranges, takes the right-most address outside them", async () => {
    const trust = { cidrs: ['127.0.0.0/8', '10.0.0.0/8', '::1/128'] }
    expect(await seenAs(trust, '127.0.0.1', '1.2.3.4, 203.0.113.9, 10.0.0.5')).toBe('203.0.113.9')
    expect(await seenAs(trust, '::ffff:127.0.0.1', '2001:db8::7')).toBe('2001:db8::7')
    // A request that does not come through a listed proxy is its own client.
    expect(await seenAs(trust, '198.51.100.4', '1.2.3.4')).toBe('198.51.100.4')
  })

  it('is read from the environment, and a bad value is one clear line', () => {
    expect(loadConfig({ TRUST_PROXY: '1' }, { inherit: false }).api.trustProxy).toEqual({ hops: 1 })
    expect(
      loadConfig({ TRUST_PROXY: '10.0.0.0/8, ::1' }, { inherit: false }).api.trustProxy,
    ).toEqual({ cidrs: ['10.0.0.0/8', '::1'] })
    expect(loadConfig({}, { inherit: false }).api.trustProxy).toBeNull()
    expect(() => loadConfig({ TRUST_PROXY: 'the proxy' }, { inherit: false })).toThrow(
      /TRUST_PROXY must be a number of proxies/,
    )
  })
})

describe('behind a reverse proxy on the same machine', () => {
  let tdb: TestDatabase
  let temporal: Client
  beforeAll(async () => {
    tdb = await createTestDatabase()
    temporal = await connectTestClient()
  })
  afterAll(async () => {
    await temporal?.connection.close()
    await tdb?.drop()
  })

  /** Sign-ins of unknown users from one client behind the proxy, until it is refused. */
  const signInsFrom = async (app: ReturnType<typeof createApp>, client: string, n: number) => {
    const statuses: number[] = []
    for (let i = 0; i < n; i++) {
      const res = await app.request(
        '/api/auth/sign-in',
        {
          method: 'POST',
          headers: { 'content-type': 'application/json', 'x-forwarded-for': client },
          body: JSON.stringify({ username: `nobody.${client}.${i}`, password: 'wrong password' }),
        },
        fromAddress('127.0.0.1'),
      )
      statuses.push(res.status)
    }
    return statuses
  }
  const app = (trustProxy: TrustProxy) =>
    createApp({
      db: tdb.db,
      temporal,
      log: createLogger('silent', false),
      codec: testCodec,
      taskQueue: 'unused',
      trustProxy,
    })

  it('limits each client on its own with TRUST_PROXY, one bucket for the country without', async () => {
    const trusted = app({ hops: 1 })
    expect((await signInsFrom(trusted, '203.0.113.1', SIGN_IN_LIMIT + 1)).at(-1)).toBe(429)
    expect(await signInsFrom(trusted, '203.0.113.2', 1)).toEqual([401])

    const untrusted = app(null)
    expect((await signInsFrom(untrusted, '203.0.113.1', SIGN_IN_LIMIT + 1)).at(-1)).toBe(429)
    expect(await signInsFrom(untrusted, '203.0.113.2', 1)).toEqual([429])
  }, 60_000)
})

describe('the rate limiters hold a bounded memory', () => {
  it('forget old keys one by one, never the one being limited', () => {
    const clock = { t: Date.now() }
    const limiter = createRateLimiter({
      limit: 3,
      windowMs: 60_000,
      now: () => new Date(clock.t),
      maxKeys: 100,
    })
    for (let i = 0; i < 3; i++) expect(limiter.hit('attacker').allowed).toBe(true)
    expect(limiter.hit('attacker').allowed).toBe(false)
    // 10,000 new addresses (the public limiter used to clear its whole map at 10,000).
    for (let i = 0; i < 10_000; i++) limiter.hit(`198.51.${i >> 8}.${i & 255}`)
    expect(limiter.size).toBeLessThanOrEqual(101)
    expect(limiter.hit('attacker').allowed).toBe(false)
    // Once its window has passed, it may try again.
    clock.t += 61_000
    expect(limiter.hit('attacker').allowed).toBe(true)
  })
})
