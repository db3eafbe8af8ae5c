import { execFile } from 'node:child_process'
import { randomUUID } from 'node:crypto'
import { promisify } from 'node:util'
import type { Client } from '@temporalio/client'
import { Hono } from 'hono'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, inject, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { onError } from '../../api/errors'
import { authRoutes } from '../../api/routes/auth'
import { codecRoutes } from '../../api/routes/codec'
import { serveApi } from '../../api/server'
import { fromAddress, signInThroughRoutes, type BrowserSession } from '../helpers/api'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { connectTestClient } from '../helpers/temporal'

const UI_ORIGIN = 'http://127.0.0.1:8233'
const API = 'http://127.0.0.1:3000'
const CANARY = "Le chef de village m'a demandé de l'argent — canary-7f3a"
const b64 = (text: string) => Buffer.from(text).toString('base64')
const log = createLogger('silent', false)
const execFileAsync = promisify(execFile)

interface PayloadsJson {
  payloads: { metadata: Record<string, string>; data: string }[]
}

let tdb: TestDatabase
let temporal: Client
let app: ReturnType<typeof createApp>
const fresh: string[] = []

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  temporal = await connectTestClient()
  app = createApp({
    db: tdb.db,
    temporal,
    log,
    codec: testCodec,
    taskQueue: 'unused',
    temporalUiOrigins: [UI_ORIGIN],
  })
  // Case workers of Kati owe no second factor; made operators here, they owe one.
  const rows = await tdb.db
    .selectFrom('users')
    .select('username')
    .where('username', 'like', 'agent.%')
    .orderBy('username')
    .execute()
  fresh.push(...rows.map((r) => r.username))
})
afterAll(async () => {
  await temporal?.connection.close()
  await tdb?.drop()
})

/** A demo account no other test used, made a Temporal operator (or not), and signed in. */
async function operator(
  { permission = true } = {},
  on: { request: typeof app.request } = app,
): Promise<BrowserSession & { username: string }> {
  const username = fresh.shift()!
  await sql`update users set can_decode_payloads = ${permission} where username = ${username}`.execute(
    tdb.db,
  )
  return { username, ...(await signInThroughRoutes(on, username, DEMO_PASSWORD)) }
}

const plain: PayloadsJson = {
  payloads: [
    { metadata: { encoding: b64('json/plain') }, data: b64(JSON.stringify({ narrative: CANARY })) },
    { metadata: { encoding: b64('binary/null') }, data: '' },
  ],
}
let encrypted: PayloadsJson
beforeAll(async () => {
  const [first, second] = await testCodec.encode(
    plain.payloads.map((p) => ({
      metadata: Object.fromEntries(
        Object.entries(p.metadata).map(([k, v]) => [k, Buffer.from(v, 'base64')]),
      ),
      data: Buffer.from(p.data, 'base64'),
    })),
  )
  const json = (p: typeof first) => ({
    metadata: Object.fromEntries(
      Object.entries(p!.metadata ?? {}).map(([k, v]) => [k, Buffer.from(v!).toString('base64')]),
    ),
    data: Buffer.from(p!.data ?? []).toString('base64'),
  })
  encrypted = { payloads: [json(first), json(second)] }
})

/** A POST as the Temporal Web UI sends it from the operator's browser (or as the CLI does). */
const call = (
  path: string,
  body: unknown,
  headers: Record<string, string> = {},
  address = '127.0.0.1',
  on: { request: typeof app.request } = app,
) =>
  on.request(
    `${API}/api/temporal-codec${path}`,
    {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'x-namespace': 'default', ...headers },
      body: typeof body === 'string' ? body : JSON.stringify(body),
    },
    fromAddress(address),
  )
const fromUi = (s: BrowserSession) => ({ origin: UI_ORIGIN, cookie: s.cookie })
const code = async (res: Response) => ((await res.json()) as { error: { code: string } }).error.code
const audit = (username: string) =>
  tdb.db
    .selectFrom('codecAudit')
    .innerJoin('users', 'users.id', 'codecAudit.userId')
    .select([
      'codecAudit.direction',
      'codecAudit.outcome',
      'codecAudit.payloadCount',
      'codecAudit.namespace',
      'codecAudit.workflowIds',
      'codecAudit.via',
    ])
    .where('users.username', '=', username)
    .orderBy('codecAudit.id')
    .execute()

describe('the Temporal codec endpoint refuses', () => {
  it('an unauthenticated caller on this machine: being local proves nothing', async () => {
    const res = await call('/decode', encrypted, { origin: UI_ORIGIN })
    expect(res.status).toBe(401)
    expect(await code(res)).toBe('UNAUTHENTICATED')
  })

  it('a remote caller relayed by a reverse proxy on this machine', async () => {
    const res = await call(
      '/decode',
      encrypted,
      { 'x-forwarded-for': '203.0.113.9', forwarded: 'for=203.0.113.9;proto=https' },
      '127.0.0.1',
    )
    expect(res.status).toBe(401)
    expect(JSON.stringify(await res.json())).not.toContain('canary')
  })

  it('a forged Host (a DNS name rebound to this machine), even with an operator session', async () => {
    const s = await operator()
    const res = await call('/decode', encrypted, { ...fromUi(s), host: 'rebind.evil.example:3000' })
    expect(res.status).toBe(403)
    expect(await code(res)).toBe('HOST_NOT_ALLOWED')
  })

  it('a web page of another origin, even with an operator session', async () => {
    const s = await operator()
    const res = await call('/decode', encrypted, {
      origin: 'https://evil.example',
      cookie: s.cookie,
    })
    expect(res.status).toBe(403)
    expect(await code(res)).toBe('ORIGIN_NOT_ALLOWED')
  })

  it('a signed-in user who is not a Temporal operator, and records the attempt', async () => {
    const s = await operator({ permission: false })
    const res = await call('/decode', encrypted, fromUi(s))
    expect(res.status).toBe(403)
    expect(await code(res)).toBe('NOT_AN_OPERATOR')
    expect(await audit(s.username)).toEqual([
      expect.objectContaining({ direction: 'decode', outcome: 'forbidden', payloadCount: 0 }),
    ])
  })

  it("an operator whose second factor is still owed, and a system's bearer token", async () => {
    const username = fresh.shift()!
    await sql`update users set can_decode_payloads = true where username = ${username}`.execute(
      tdb.db,
    )
    const signIn = await app.request(
      '/api/auth/sign-in',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body: JSON.stringify({ username, password: DEMO_PASSWORD }),
      },
      fromAddress('192.0.2.20'),
    )
    expect(((await signIn.json()) as { totp: string }).totp).toBe('enrolment_required')
    const cookie = (signIn.headers.get('set-cookie') ?? '').split(';')[0]!
    const pending = await call('/decode', encrypted, { origin: UI_ORIGIN, cookie })
    expect(pending.status).toBe(401)
    expect(await code(pending)).toBe('TOTP_REQUIRED')

    // A system's token has no second factor behind it: it is no key to the codec.
    const { id } = await tdb.db
      .selectFrom('users')
      .select('id')
      .where('username', '=', username)
      .executeTakeFirstOrThrow()
    const { token } = await createApiToken(tdb.db, { name: 'a system', userId: id })
    const bearer = await call('/decode', encrypted, { authorization: `Bearer ${token}` })
    expect(bearer.status).toBe(401)
  })
})

describe('the Temporal codec endpoint, for a signed-in operator', () => {
  it('decodes from the Web UI with CORS and credentials, and audits who, how many and where', async () => {
    const s = await operator()
    const res = await call('/decode', encrypted, {
      ...fromUi(s),
      referer: `${UI_ORIGIN}/namespaces/default/workflows/case-G-2026-000123/run-1/history`,
    })
    expect(res.status).toBe(200)
    expect(res.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    expect(res.headers.get('access-control-allow-credentials')).toBe('true')
    expect(res.headers.get('cache-control')).toBe('no-store')
    expect(await res.json()).toEqual(plain)
    expect(await audit(s.username)).toEqual([
      {
        direction: 'decode',
        outcome: 'ok',
        payloadCount: 2,
        namespace: 'default',
        workflowIds: ['case-G-2026-000123'],
        via: 'session',
      },
    ])
  })

  it("answers the Web UI's preflight (no credentials in it) through the whole app, and no other origin's", async () => {
    const preflight = (origin: string) =>
      app.request(`${API}/api/temporal-codec/decode`, {
        method: 'OPTIONS',
        headers: {
          origin,
          'access-control-request-method': 'POST',
          'access-control-request-headers': 'content-type,x-namespace',
        },
      })
    const allowed = await preflight(UI_ORIGIN)
    expect(allowed.status).toBe(204)
    expect(allowed.headers.get('access-control-allow-origin')).toBe(UI_ORIGIN)
    expect(allowed.headers.get('access-control-allow-credentials')).toBe('true')
    expect(allowed.headers.get('access-control-allow-methods')).toBe('POST,OPTIONS')
    expect(allowed.headers.get('access-control-allow-headers')).toContain('x-namespace')

    const other = await preflight('https://evil.example')
    expect(other.headers.get('access-control-allow-origin')).toBeNull()
  })

  it('encodes and decodes in the JSON protocol, and decodes what the SDK codec wrote', async () => {
    const s = await operator()
    const encodedResponse = await call('/encode', plain, fromUi(s))
    expect(encodedResponse.status).toBe(200)
    const encoded = (await encodedResponse.json()) as PayloadsJson
    expect(encoded.payloads[0]!.metadata.encoding).toBe(b64('binary/encrypted'))
    expect(Buffer.from(encoded.payloads[0]!.data, 'base64').includes('canary-7f3a')).toBe(false)
    const decoded = await call('/decode', encoded, fromUi(s))
    expect(await decoded.json()).toEqual(plain)
    // Unencrypted payloads pass through.
    const passthrough = await call('/decode', plain, fromUi(s))
    expect(await passthrough.json()).toEqual(plain)
  })

  it.each([
    ['not JSON', '{"payloads": ['],
    ['no payloads', { items: [] }],
    ['data that is not base64', { payloads: [{ metadata: {}, data: 'not base64!' }] }],
    ['metadata that is not base64', { payloads: [{ metadata: { encoding: 42 }, data: '' }] }],
  ])('answers 400 INVALID_BODY to %s', async (_, body) => {
    const s = await operator()
    const response = await call('/decode', body, fromUi(s))
    expect(response.status).toBe(400)
    expect(await code(response)).toBe('INVALID_BODY')
  })

  it('answers 422 CODEC_FAILED, naming the key id, when a payload cannot be decrypted', async () => {
    const s = await operator()
    const unknownKey = structuredClone(encrypted)
    unknownKey.payloads[0]!.metadata['encryption-key-id'] = b64('retired')
    const response = await call('/decode', unknownKey, fromUi(s))
    expect(response.status).toBe(422)
    const json = (await response.json()) as { error: { code: string; message: string } }
    expect(json.error.code).toBe('CODEC_FAILED')
    expect(json.error.message).toMatch(/unknown key id "retired"/)
    expect(json.error.message).not.toMatch(/\n|at .*\.ts/)
    expect(await audit(s.username)).toEqual([
      expect.objectContaining({ outcome: 'failed', payloadCount: 2 }),
    ])
  })

  it('gives the CLI a codec token that opens the codec only and ends with the session', async () => {
    const s = await operator()
    const issued = await app.request(
      '/api/auth/codec-token',
      { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } },
      fromAddress('192.0.2.10'),
    )
    expect(issued.status).toBe(201)
    const { token, expiresAt } = (await issued.json()) as { token: string; expiresAt: string }
    expect(new Date(expiresAt).getTime()).toBeLessThanOrEqual(Date.now() + 8 * 3_600_000)
    // As `temporal workflow show --codec-auth "Bearer …"` sends it: no Origin, no cookie.
    const cli = await call('/decode', encrypted, { authorization: `Bearer ${token}` })
    expect(cli.status).toBe(200)
    expect(await cli.json()).toEqual(plain)
    expect((await audit(s.username)).at(-1)).toMatchObject({ via: 'token', payloadCount: 2 })
    // The token is no key to the rest of the API.
    const me = await app.request('/api/auth/me', { headers: { authorization: `Bearer ${token}` } })
    expect(me.status).toBe(401)
    // Signing out ends it.
    await app.request(
      '/api/auth/sign-out',
      { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } },
      fromAddress('192.0.2.10'),
    )
    const after = await call('/decode', encrypted, { authorization: `Bearer ${token}` })
    expect(after.status).toBe(401)
  })

  it('is rate-limited per operator, and the refusals are audited', async () => {
    const small = new Hono()
      .route('/api/auth', authRoutes({ db: tdb.db, secureCookies: false }))
      .route(
        '/api/temporal-codec',
        codecRoutes({
          db: tdb.db,
          codec: testCodec,
          allowedOrigins: [UI_ORIGIN],
          allowedHosts: ['127.0.0.1'],
          limits: { perMinute: 3, refusedPerMinute: 100 },
        }),
      )
      .onError(onError(log))
    const s = await operator({}, small)
    const statuses = []
    for (let i = 0; i < 5; i++) {
      statuses.push((await call('/decode', encrypted, fromUi(s), '127.0.0.1', small)).status)
    }
    expect(statuses).toEqual([200, 200, 200, 429, 429])
    expect((await audit(s.username)).map((r) => r.outcome)).toEqual([
      'ok',
      'ok',
      'ok',
      'rate_limited',
      'rate_limited',
    ])
  })
})

describe('the Temporal CLI against the codec endpoint', () => {
  it('prints a case payload in clear with an operator codec token, and nothing without one', async () => {
    const binary = inject('temporalBinary')
    if (!binary) return expect.fail('the test run found no temporal binary')
    const server = await serveApi(app, '127.0.0.1', 0)
    const workflowId = `case-codec-cli-${randomUUID()}`
    // Nobody polls this queue: the started event alone holds the encrypted input.
    const handle = await temporal.workflow.start('grievance', {
      taskQueue: `nobody-${randomUUID()}`,
      workflowId,
      args: [{ narrative: CANARY }],
    })
    try {
      const s = await operator()
      const issued = await app.request(
        '/api/auth/codec-token',
        { method: 'POST', headers: { cookie: s.cookie, 'x-csrf-token': s.csrfToken } },
        fromAddress('192.0.2.10'),
      )
      const { token } = (await issued.json()) as { token: string }
      const show = (...extra: string[]) =>
        execFileAsync(binary, [
          'workflow',
          'show',
          '--workflow-id',
          workflowId,
          '--address',
          inject('temporalAddress'),
          '--namespace',
          inject('namespace'),
          '--output',
          'json',
          '--codec-endpoint',
          `${server.url}/api/temporal-codec`,
          ...extra,
        ]).then(
          ({ stdout }) => ({ ok: true, out: stdout }),
          (error: { stdout?: string; stderr?: string }) => ({
            ok: false,
            out: `${error.stdout ?? ''}${error.stderr ?? ''}`,
          }),
        )
      const decoded = await show('--codec-auth', `Bearer ${token}`)
      /** The workflow input as the CLI printed it (JSON output carries payload bytes in base64). */
      const input = (out: string) => {
        const { events } = JSON.parse(out) as {
          events: {
            workflowExecutionStartedEventAttributes?: {
              input: { payloads: { metadata: Record<string, string>; data: string }[] }
            }
          }[]
        }
        const [payload] = events[0]!.workflowExecutionStartedEventAttributes!.input.payloads
        const text = (v: string) => Buffer.from(v, 'base64').toString()
        return { encoding: text(payload!.metadata.encoding!), data: text(payload!.data) }
      }
      expect(decoded.ok).toBe(true)
      expect(input(decoded.out)).toEqual({
        encoding: 'json/plain',
        data: JSON.stringify({ narrative: CANARY }),
      })
      // Without the token the CLI gets a 401 from the codec: never the narrative.
      const refused = await show()
      expect(refused.out).not.toContain(b64(JSON.stringify({ narrative: CANARY })))
      expect(refused.out).not.toContain('canary-7f3a')
      expect((await audit(s.username)).at(-1)).toMatchObject({
        direction: 'decode',
        outcome: 'ok',
        namespace: inject('namespace'),
        via: 'token',
      })
    } finally {
      await handle.terminate('test over').catch(() => undefined)
      await server.close()
    }
  })
})
