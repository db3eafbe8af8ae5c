import SwaggerParser from '@apidevtools/swagger-parser'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { connectTestClient } from '../helpers/temporal'

let tdb: TestDatabase
let temporal: Client
let app: ReturnType<typeof createApp>
beforeAll(async () => {
  tdb = await createTestDatabase()
  temporal = await connectTestClient()
  app = createApp({
    db: tdb.db,
    temporal,
    log: createLogger('silent', false),
    codec: testCodec,
    taskQueue: 'unused',
  })
})
afterAll(async () => {
  await temporal?.connection.close()
  await tdb?.drop()
})

type Doc = { paths: Record<string, Record<string, unknown>> }
const documented = async () => (await (await app.request('/api/openapi.json')).json()) as Doc

/**
 * Routes outside the OpenAPI contract on purpose: the document itself, its page, Temporal's codec
 * protocol; and middleware registrations (paths with a wildcard).
 */
const undocumented = (path: string) =>
  path === '/api/openapi.json' ||
  path === '/api/docs' ||
  path.startsWith('/api/temporal-codec/') ||
  path.includes('*')

describe('the OpenAPI document', () => {
  it('passes a standard validator', async () => {
    const doc = await documented()
    await expect(SwaggerParser.validate(structuredClone(doc) as never)).resolves.toBeTruthy()
  })

  it('documents every route of the API, and every documented route exists', async () => {
    const doc = await documented()
    const inDoc = new Set(
      Object.entries(doc.paths).flatMap(([path, ops]) =>
        Object.keys(ops).map((m) => `${m.toUpperCase()} /api${path.replace(/\{(\w+)\}/g, ':$1')}`),
      ),
    )
    const inApp = new Set(
      app.routes
        .filter((r) => r.path.startsWith('/api/') && r.method !== 'ALL' && !undocumented(r.path))
        .map((r) => `${r.method} ${r.path}`),
    )
    expect([...inApp].filter((r) => !inDoc.has(r))).toEqual([])
    expect([...inDoc].filter((r) => !inApp.has(r))).toEqual([])
    expect(inDoc.size).toBeGreaterThan(20)
  })

  it('is shown as a readable page', async () => {
    const page = await app.request('/api/docs')
    expect(page.status).toBe(200)
    const text = await page.text()
    expect(text).toContain('/api/cases')
    expect(text).toContain('/api/public/grievances')
  })

  it('keeps cases and tasks behind sign-in, with the one error shape', async () => {
    for (const path of ['/api/cases', '/api/cases/G-1', '/api/tasks']) {
      const response = await app.request(path)
      expect(response.status, path).toBe(401)
      expect(((await response.json()) as { error: { code: string } }).error.code).toBe(
        'UNAUTHENTICATED',
      )
    }
  })
})
