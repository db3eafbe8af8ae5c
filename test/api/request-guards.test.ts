import { request as httpRequest } from 'node:http'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { serveApi } from '../../api/server'
import { fromAddress, signInThroughRoutes, type BrowserSession } from '../helpers/api'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { userId } from '../helpers/fixtures'
import { connectTestClient } from '../helpers/temporal'

let tdb: TestDatabase
let temporal: Client
let app: ReturnType<typeof createApp>
let session: BrowserSession

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedDemo(tdb.db)
  temporal = await connectTestClient()
  app = createApp({
    db: tdb.db,
    temporal,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: 'unused',
    consoleOrigins: ['https://console.rsu.example.ml'],
  })
  session = await signInThroughRoutes(app, 'agent.kati.1', DEMO_PASSWORD)
})
afterAll(async () => {
  await temporal?.connection.close()
  await tdb?.drop()
})

const codeOf = async (res: Response) =>
  ((await res.json()) as { error?: { code?: string } }).error?.code

describe('request guards', () => {
  it('an oversized chunked body (no Content-Length) answers a readable 413', async () => {
    const chunk = new TextEncoder().encode('x'.repeat(64 * 1024))
    let sent = 0
    const body = new ReadableStream<Uint8Array>({
      pull(controller) {
        // 2 MiB in 64 KiB chunks: over the 1 MiB limit, never announced up front.
        if (sent++ < 32) controller.enqueue(chunk)
        else controller.close()
      },
    })
    const res = await app.request(
      '/api/public/grievances',
      {
        method: 'POST',
        headers: { 'content-type': 'application/json' },
        body,
        duplex: 'half',
      } as RequestInit,
      fromAddress('192.0.2.31'),
    )
    expect(res.status).toBe(413)
    expect(await res.json()).toEqual({
      error: { code: 'PAYLOAD_TOO_LARGE', message: 'Request body larger than 1 MiB' },
    })
  })

  it('over a real socket too: the client sending a chunked body reads the 413', async () => {
    const server = await serveApi(app, '127.0.0.1', 0)
    try {
      const url = new URL(server.url)
      const answer = await new Promise<{ status: number; text: string }>((resolve, reject) => {
        const req = httpRequest(
          {
            host: url.hostname,
            port: url.port,
            method: 'POST',
            path: '/api/public/grievances',
            headers: { 'content-type': 'application/json', 'transfer-encoding': 'chunked' },
          },
          (res) => {
            let text = ''
            res.setEncoding('utf8')
            res.on('data', (d: string) => (text += d))
            res.on('end', () => resolve({ status: res.statusCode ?? 0, text }))
          },
        )
        req.on('error', reject)
        const chunk = 'x'.repeat(64 * 1024)
        let n = 0
        const pump = () => {
          while (n < 32) {
            n++
            if (!req.write(chunk)) return void req.once('drain', pump)
          }
          req.end()
        }
        pump()
      })
      expect(answer.status).toBe(413)
      expect(JSON.parse(answer.text)).toMatchObject({ error: { code: 'PAYLOAD_TOO_LARGE' } })
    } finally {
      await server.close()
    }
  })

  it('a session write from another site is refused even with the CSRF token (Origin, Fetch Metadata)', async () => {
    const write = (headers: Record<string, string>) =>
      app.request(
        '/api/cases/G-nowhere/notes',
        {
          method: 'POST',
          headers: {
            cookie: session.cookie,
            'x-csrf-token': session.csrfToken,
            'content-type': 'application/json',
            ...headers,
          },
          body: JSON.stringify({ text: 'Une note de test.' }),
        },
        fromAddress('192.0.2.32'),
      )
    const refused: Record<string, string>[] = [
      { origin: 'https://evil.example' },
      { origin: 'null' },
      { 'sec-fetch-site': 'cross-site' },
      { 'sec-fetch-site': 'same-site' },
      { origin: 'http://localhost', 'sec-fetch-site': 'cross-site' },
    ]
    for (const headers of refused) {
      const res = await write(headers)
      expect(res.status, JSON.stringify(headers)).toBe(403)
      expect(await codeOf(res), JSON.stringify(headers)).toBe('CSRF_ORIGIN_REFUSED')
    }
    // This site's pages, a listed console origin, and clients that send neither header pass
    // (to the case lookup: a 404 for a case that does not exist).
    const passed: Record<string, string>[] = [
      {},
      { origin: 'http://localhost', 'sec-fetch-site': 'same-origin' },
      { origin: 'https://console.rsu.example.ml', 'sec-fetch-site': 'same-site' },
    ]
    for (const headers of passed) {
      const res = await write(headers)
      expect(res.status, JSON.stringify(headers)).toBe(404)
    }
  })

  it('a user probing ids is held back before the access audit fills up; others are not', async () => {
    const limited = createApp({
      db: tdb.db,
      temporal,
      log: createLogger('silent', false),
      codec: testCodec,
      taskQueue: 'unused',
      userLimits: { requestsPerMinute: 60, refusalsPerMinute: 5 },
    })
    const token = async (username: string) =>
      (await createApiToken(tdb.db, { name: username, userId: await userId(tdb.db, username) }))
        .token
    const prober = await token('agent.kati.2')
    const other = await token('agent.kati.1')
    const as = (bearer: string, path: string) =>
      limited.request(path, { headers: { authorization: `Bearer ${bearer}` } })
    const audited = async () =>
      (
        await tdb.db
          .selectFrom('accessAudit')
          .select('id')
          .where('userId', '=', await userId(tdb.db, 'agent.kati.2'))
          .execute()
      ).length
    const before = await audited()
    for (let i = 0; i < 5; i++)
      expect((await as(prober, `/api/cases/G-probe-${i}`)).status).toBe(404)
    const held = await as(prober, '/api/cases/G-probe-5')
    expect(held.status).toBe(429)
    expect(held.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await codeOf(held)).toBe('RATE_LIMITED')
    // Held back for every request, nothing more written; another user goes on.
    for (let i = 6; i < 50; i++)
      expect((await as(prober, `/api/cases/G-probe-${i}`)).status).toBe(429)
    expect((await as(prober, '/api/cases')).status).toBe(429)
    expect(await audited()).toBe(before + 5)
    expect((await as(other, '/api/cases')).status).toBe(200)
    // And past the request limit, even without a refusal.
    const answers = []
    for (let i = 0; i < 60; i++) answers.push((await as(other, '/api/cases')).status)
    expect(answers.filter((s) => s === 429).length).toBe(1)
  })
})
