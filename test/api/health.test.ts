import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createDb } from '../../activities/db/db'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { connectTestClient } from '../helpers/temporal'

const log = createLogger('silent', false)
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

describe('health endpoints', () => {
  it('say ready when PostgreSQL and Temporal answer', async () => {
    const app = createApp({ db: tdb.db, temporal, log, taskQueue: 'unused' })
    expect(await (await app.request('/api/health/live')).json()).toEqual({ status: 'live' })
    const ready = await app.request('/api/health/ready')
    expect(ready.status).toBe(200)
    expect(await ready.json()).toMatchObject({
      status: 'ready',
      checks: { postgres: { status: 'up' }, temporal: { status: 'up' } },
    })
  })

  it('answer 503 with a retry hint, naming the dependency, when PostgreSQL is down', async () => {
    // Port 1: nothing listens there, so connections are refused at once.
    const deadDb = createDb('postgres://rsu@127.0.0.1:1/rsu', { max: 1 })
    const app = createApp({ db: deadDb, temporal, log, taskQueue: 'unused' })
    const ready = await app.request('/api/health/ready')
    expect(ready.status).toBe(503)
    expect(ready.headers.get('retry-after')).toBe('5')
    expect(await ready.json()).toMatchObject({
      status: 'not_ready',
      error: { code: 'SERVICE_UNAVAILABLE' },
      checks: { postgres: { status: 'down' }, temporal: { status: 'up' } },
    })
    await deadDb.destroy()
  })
})

describe('the HTTP application', () => {
  it('documents its routes in OpenAPI 3.1', async () => {
    const app = createApp({ db: tdb.db, temporal, log, taskQueue: 'unused' })
    const doc = (await (await app.request('/api/openapi.json')).json()) as {
      openapi: string
      paths: Record<string, unknown>
    }
    expect(doc.openapi).toBe('3.1.0')
    expect(Object.keys(doc.paths)).toEqual(
      expect.arrayContaining(['/health/live', '/health/ready']),
    )
  })

  it('answers unknown routes with the one JSON error shape', async () => {
    const app = createApp({ db: tdb.db, temporal, log, taskQueue: 'unused' })
    const response = await app.request('/api/health/nope')
    expect(response.status).toBe(404)
    expect(await response.json()).toEqual({
      error: { code: 'NOT_FOUND', message: 'No route GET /api/health/nope' },
    })
  })

  it('serves the console placeholder at /admin, in French', async () => {
    const app = createApp({ db: tdb.db, temporal, log, taskQueue: 'unused' })
    const page = await app.request('/admin/')
    expect(page.status).toBe(200)
    expect(await page.text()).toContain('lang="fr"')
  })
})

describe('during an outage', () => {
  it('answers 503 with a retry hint, never a 500 or a hang, when PostgreSQL is down', async () => {
    // Port 1: nothing listens there, so connections are refused at once.
    const deadDb = createDb('postgres://rsu@127.0.0.1:1/rsu', { max: 1 })
    const app = createApp({ db: deadDb, temporal, log, taskQueue: 'unused' })
    for (const [method, path, body] of [
      ['GET', '/api/cases', undefined],
      ['POST', '/api/auth/sign-in', { username: 'agent.kati.1', password: 'Demo-RSU-2026' }],
      ['POST', '/api/public/track', { reference: 'PL-2026-ABCDEF', pin: '123456' }],
    ] as const) {
      const response = await app.request(path, {
        method,
        headers: { authorization: 'Bearer whatever', 'content-type': 'application/json' },
        body: body ? JSON.stringify(body) : undefined,
      })
      expect(response.status, `${method} ${path}`).toBe(503)
      expect(response.headers.get('retry-after')).toBe('5')
      expect(await response.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } })
    }
    await deadDb.destroy()
  })
})
