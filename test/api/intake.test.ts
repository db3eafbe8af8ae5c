import type { Client } from '@temporalio/client'
import simpleRestProvider from 'ra-data-simple-rest'
import { fetchUtils } from 'ra-core'
import { sql } from 'kysely'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { createApp } from '../../api/app'
import { createApiToken } from '../../api/auth/sessions'
import { serveApi, type ApiServer } from '../../api/server'
import { testCipher, testCodec } from '../helpers/codec'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

/**
 * Staff intake (hotline, in person) through the real HTTP server, as the console will use it:
 * idempotent under concurrent retries, and usable with react-admin's own simple REST provider.
 */
let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let server: ApiServer
let token: string
beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  const app = createApp({
    db: tdb.db,
    temporal: client,
    log: createLogger('silent', false),
    codec: testCodec,
    cipher: testCipher,
    taskQueue: worker.taskQueue,
  })
  server = await serveApi(app, '127.0.0.1', 0)
  token = (
    await createApiToken(tdb.db, {
      name: 'hotline',
      userId: await userId(tdb.db, 'agent.kati.1'),
    })
  ).token
})
afterAll(async () => {
  await server?.close()
  await stopCaseStack({ tdb, client, worker })
})

const intake = {
  communeCode: 'ML-2-KATI-KATI',
  channel: 'hotline',
  category: 'payment_not_received',
  narrative: "Appel au numéro vert : paiement d'octobre non reçu.",
  contact: { phone: '+223 76 00 00 00' },
}

describe('staff intake', () => {
  it('registers exactly one case for twenty concurrent identical requests with one Idempotency-Key', async () => {
    const send = () =>
      fetch(`${server.url}/api/cases`, {
        method: 'POST',
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': 'hotline-call-4711',
        },
        body: JSON.stringify(intake),
      })
    const responses = await Promise.all(Array.from({ length: 20 }, send))
    expect(responses.map((r) => r.status)).toEqual(Array(20).fill(201))
    const bodies = await Promise.all(responses.map((r) => r.json()))
    expect(new Set(bodies.map((b) => JSON.stringify(b))).size).toBe(1)
    const { caseId } = bodies[0] as { caseId: string }
    await eventually(() =>
      tdb.db.selectFrom('cases').select('id').where('id', '=', caseId).executeTakeFirst(),
    )
    const cases = await tdb.db
      .selectFrom('cases')
      .select('id')
      .where('channel', '=', 'hotline')
      .execute()
    expect(cases).toEqual([{ id: caseId }])
    // The stored answer (replayed above) is sealed: the PIN, kept by the case only as a hash,
    // is not in the idempotency table in clear.
    const { pin, reference } = bodies[0] as { pin: string; reference: string }
    const {
      rows: [stored],
    } = await sql<{ response: unknown }>`
      select response from idempotency_keys where key = 'hotline-call-4711'`.execute(tdb.db)
    expect(stored).toBeDefined()
    expect(JSON.stringify(stored?.response)).not.toContain(pin)
    expect(JSON.stringify(stored?.response)).not.toContain(reference)

    const other = await fetch(`${server.url}/api/cases`, {
      method: 'POST',
      headers: {
        authorization: `Bearer ${token}`,
        'content-type': 'application/json',
        'idempotency-key': 'hotline-call-4711',
      },
      body: JSON.stringify({ ...intake, narrative: 'Un autre appel, une autre plainte.' }),
    })
    expect(other.status).toBe(422)
    expect(((await other.json()) as { error: { code: string } }).error.code).toBe(
      'IDEMPOTENCY_KEY_REUSED',
    )
  })

  it('refuses a commune outside the agent’s areas', async () => {
    const response = await fetch(`${server.url}/api/cases`, {
      method: 'POST',
      headers: { authorization: `Bearer ${token}`, 'content-type': 'application/json' },
      body: JSON.stringify({ ...intake, communeCode: 'ML-1-KAYES-KAYES' }),
    })
    expect(response.status).toBe(403)
  })

  it('works with react-admin’s ra-data-simple-rest: create, getList with filter/sort/range, getOne, update', async () => {
    const httpClient = (url: string, options: fetchUtils.Options = {}) =>
      fetchUtils.fetchJson(url, {
        ...options,
        headers: new Headers({ ...(options.headers ?? {}), authorization: `Bearer ${token}` }),
      })
    const provider = simpleRestProvider(`${server.url}/api`, httpClient)
    const created = await provider.create('cases', {
      data: { ...intake, channel: 'in_person', narrative: 'Plainte reçue à la mairie de Kati.' },
    })
    const id = String(created.data.id)
    expect(id).toMatch(/^G-/)
    await eventually(() =>
      tdb.db.selectFrom('cases').select('id').where('id', '=', id).executeTakeFirst(),
    )

    const list = await provider.getList('cases', {
      pagination: { page: 1, perPage: 5 },
      sort: { field: 'openedAt', order: 'DESC' },
      filter: { channel: undefined, status: 'open', areaCode: 'ML-2-KATI-KATI' },
    })
    expect(list.total).toBeGreaterThanOrEqual(2)
    expect(list.data[0]!.id).toBe(id)
    const one = await provider.getOne('cases', { id })
    expect(one.data).toMatchObject({ id, channel: 'in_person', status: 'open' })

    // update, as the administrator's console edits a category (TOTP does not apply to tokens).
    const adminToken = (
      await createApiToken(tdb.db, { name: 'console', userId: await userId(tdb.db, 'admin') })
    ).token
    const asAdmin = simpleRestProvider(`${server.url}/api`, (url, options = {}) =>
      fetchUtils.fetchJson(url, {
        ...options,
        headers: new Headers({ ...(options.headers ?? {}), authorization: `Bearer ${adminToken}` }),
      }),
    )
    const before = await asAdmin.getOne('categories', { id: 'other' })
    const updated = await asAdmin.update('categories', {
      id: 'other',
      data: { ...before.data, labelFr: 'Autre motif' },
      previousData: before.data,
    })
    expect(updated.data).toMatchObject({ id: 'other', labelFr: 'Autre motif' })
    expect((await asAdmin.getOne('categories', { id: 'other' })).data.labelFr).toBe('Autre motif')
  })
})
