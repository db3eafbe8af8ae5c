import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { DEMO_PASSWORD, seedDemo } from '../../activities/db/seed'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
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
  })
  session = await signInThroughRoutes(app, 'agent.kati.1', DEMO_PASSWORD)
})
afterAll(async () => {
  await temporal?.connection.close()
  await tdb?.drop()
})

const viaSession = (method: string, path: string, body?: unknown) =>
  app.request(
    path,
    {
      method,
      headers: {
        cookie: session.cookie,
        'x-csrf-token': session.csrfToken,
        'content-type': 'application/json',
      },
      ...(body === undefined ? {} : { body: JSON.stringify(body) }),
    },
    fromAddress('192.0.2.40'),
  )
const viaToken = (token: string, path = '/api/cases', method = 'GET', body?: unknown) =>
  app.request(path, {
    method,
    headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  })
const codeOf = async (res: Response) =>
  ((await res.json()) as { error?: { code?: string } }).error?.code

describe('bearer tokens', () => {
  it('are issued with an expiry from a session, listed without their secret, and revoked', async () => {
    const issued = await viaSession('POST', '/api/tokens', {
      name: 'Système du partenaire',
      expiresInDays: 30,
    })
    expect(issued.status).toBe(201)
    const { id, token, expiresAt } = (await issued.json()) as {
      id: string
      token: string
      expiresAt: string
    }
    expect(Date.parse(expiresAt) - Date.now()).toBeGreaterThan(29 * 24 * 3600_000)
    expect(Date.parse(expiresAt) - Date.now()).toBeLessThan(31 * 24 * 3600_000)
    expect((await viaToken(token)).status).toBe(200)

    const list = await viaSession('GET', '/api/tokens')
    const text = await list.text()
    expect(text).not.toContain(token)
    expect(JSON.parse(text)).toContainEqual(
      expect.objectContaining({ id, name: 'Système du partenaire', active: true, expiresAt }),
    )
    // A token mints no other; a year at most; bad input changes nothing.
    const minted = await viaToken(token, '/api/tokens', 'POST', { name: 'encore un' })
    expect(minted.status).toBe(403)
    expect(await codeOf(minted)).toBe('SESSION_REQUIRED')
    const tooLong = await viaSession('POST', '/api/tokens', {
      name: 'pour toujours',
      expiresInDays: 3650,
    })
    expect(tooLong.status).toBe(422)
    expect(await codeOf(tooLong)).toBe('INVALID_COMMAND')

    // Someone else's token answers like a missing one and stays valid.
    const other = await createApiToken(tdb.db, {
      name: 'registre',
      userId: await userId(tdb.db, 'agent.kati.2'),
    })
    expect((await viaSession('DELETE', `/api/tokens/${other.id}`)).status).toBe(404)
    expect((await viaToken(other.token)).status).toBe(200)

    expect((await viaSession('DELETE', `/api/tokens/${id}`)).status).toBe(204)
    expect((await viaToken(token)).status).toBe(401)
    const after = (await (await viaSession('GET', '/api/tokens')).json()) as {
      id: string
      active: boolean
      revokedAt: string | null
    }[]
    expect(after.find((t) => t.id === id)).toMatchObject({ active: false })
  })

  it('an expired token opens nothing', async () => {
    const { token } = await createApiToken(tdb.db, {
      name: 'ancien',
      userId: await userId(tdb.db, 'agent.kati.1'),
      expiresAt: new Date(Date.now() - 1000),
    })
    expect((await viaToken(token)).status).toBe(401)
  })

  it('a password change revokes every token of the account, audited', async () => {
    const { token } = (await (
      await viaSession('POST', '/api/tokens', { name: 'avant changement' })
    ).json()) as { token: string }
    expect((await viaToken(token)).status).toBe(200)
    const changed = await viaSession('POST', '/api/auth/password', {
      currentPassword: DEMO_PASSWORD,
      newPassword: 'Nouveau-2026-mdp-sûr',
    })
    expect(changed.status).toBe(204)
    expect((await viaToken(token)).status).toBe(401)
    const revoked = await tdb.db
      .selectFrom('userAudit')
      .select('after')
      .where('subjectUserId', '=', await userId(tdb.db, 'agent.kati.1'))
      .where('action', '=', 'token_revoked')
      .execute()
    expect(revoked.map((r) => (r.after as { why?: string }).why)).toContain('password_changed')
  })
})
