import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest'
import {
  RegistryRejectedError,
  RegistryUnavailableError,
  type EligibilityUpdate,
} from '../../activities/registry/client'
import { createDatabaseRegistry } from '../../activities/registry/database'
import { createDciRegistry, dciSearchRequestSchema } from '../../activities/registry/dci'
import { createRegistryClient } from '../../activities/registry'
import { createRestRegistry } from '../../activities/registry/rest'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedGeography } from '../helpers/fixtures'
import { dciRegistry, REGISTRY_URL } from '../helpers/registry'

const KATI = 'ML-2-KATI-KATI'
const mock = dciRegistry([
  {
    id: 'RSU-0000003',
    areaCode: KATI,
    members: 9,
    povertyScore: 17.2,
    eligible: true,
    programmes: ['jigisemejiri', 'ramed'],
  },
])
const server = setupServer(...mock.handlers)
beforeAll(() => server.listen({ onUnhandledRequest: 'error' }))
afterEach(() => server.resetHandlers())
afterAll(() => server.close())

const update: EligibilityUpdate = {
  householdId: 'RSU-0000003',
  caseId: 'RV-1234',
  score: 21.3,
  formulaVersion: 'pmt-2026-v1',
  eligible: true,
  members: 9,
  decidedAt: '2026-11-29T08:00:00.000Z',
}

describe('the DCI registry client', () => {
  const dci = createDciRegistry({ baseUrl: REGISTRY_URL, token: 'secret-token' })

  it('searches by household id with a DCI sync search and reads the group record', async () => {
    expect(await dci.getHousehold('RSU-0000003')).toEqual({
      id: 'RSU-0000003',
      areaCode: KATI,
      members: 9,
      pmtScore: 17.2,
      eligible: true,
      programmes: ['jigisemejiri', 'ramed'],
    })
    const sent = mock.requests.at(-1)!.body
    // The request is a DCI envelope: header + message with an idtype-value search.
    const parsed = dciSearchRequestSchema.parse(sent)
    expect(parsed.header.action).toBe('search')
    expect(parsed.message.search_request[0]!.search_criteria).toMatchObject({
      query_type: 'idtype-value',
      query: { type: 'HOUSEHOLD_ID', value: 'RSU-0000003' },
    })
  })

  it('reads a rejected search (unknown identifier) as no household', async () => {
    expect(await dci.getHousehold('RSU-9999999')).toBeNull()
  })

  it('sends the bearer token', async () => {
    let authorization: string | null = null
    server.use(
      http.post(`${REGISTRY_URL}/registry/sync/search`, ({ request }) => {
        authorization = request.headers.get('authorization')
        return new HttpResponse(null, { status: 503 })
      }),
    )
    await dci.getHousehold('RSU-0000003').catch(() => undefined)
    expect(authorization).toBe('Bearer secret-token')
  })

  it('treats 5xx, 429 and a network failure as unavailable (retry), other 4xx as a refusal', async () => {
    for (const status of [500, 503, 429]) {
      server.use(
        http.post(`${REGISTRY_URL}/registry/sync/search`, () => new HttpResponse(null, { status })),
      )
      await expect(dci.getHousehold('RSU-0000003')).rejects.toBeInstanceOf(RegistryUnavailableError)
    }
    server.use(http.post(`${REGISTRY_URL}/registry/sync/search`, () => HttpResponse.error()))
    await expect(dci.getHousehold('RSU-0000003')).rejects.toBeInstanceOf(RegistryUnavailableError)
    server.use(
      http.post(
        `${REGISTRY_URL}/registry/sync/update`,
        () => new HttpResponse(null, { status: 400 }),
      ),
    )
    await expect(
      dci.updateEligibility(update, 'case-RV-1234:eligibility:1'),
    ).rejects.toBeInstanceOf(RegistryRejectedError)
  })

  it('treats an answer that is not a DCI envelope as unavailable, never as a decision', async () => {
    server.use(
      http.post(`${REGISTRY_URL}/registry/sync/search`, () => HttpResponse.json({ ok: true })),
    )
    await expect(dci.getHousehold('RSU-0000003')).rejects.toBeInstanceOf(RegistryUnavailableError)
  })

  it('writes with the idempotency key as transaction id and header; the registry applies it once', async () => {
    const key = 'case-RV-1234:eligibility:1'
    const first = await dci.updateEligibility(update, key)
    const second = await dci.updateEligibility(update, key)
    expect(second).toEqual(first)
    const writes = mock.updates()
    expect(writes.slice(-2).map((w) => w.idempotencyKey)).toEqual([key, key])
    expect(mock.applied.size).toBe(1)
    expect(mock.applied.get(key)!.message.update_request[0]!.data.reg_records[0]).toMatchObject({
      poverty_score: 21.3,
      pmt_formula_version: 'pmt-2026-v1',
      eligibility_status: 'eligible',
    })
  })

  it('reports a rejected update with the registry’s reason code', async () => {
    server.use(
      http.post(`${REGISTRY_URL}/registry/sync/update`, async ({ request }) => {
        const body = (await request.json()) as { message: { transaction_id: string } }
        return HttpResponse.json({
          header: {
            version: '1.0.0',
            message_id: 'm1',
            message_ts: new Date().toISOString(),
            action: 'on-update',
            sender_id: 'social-registry',
            status: 'rjct',
          },
          message: {
            transaction_id: body.message.transaction_id,
            update_response: [
              { reference_id: 'r1', status: 'rjct', status_reason_code: 'rjct.record.not_found' },
            ],
          },
        })
      }),
    )
    const error = await dci.updateEligibility(update, 'k-2').catch((e: unknown) => e)
    expect(error).toBeInstanceOf(RegistryRejectedError)
    expect((error as RegistryRejectedError).code).toBe('rjct.record.not_found')
  })
})

describe('the plain REST registry client', () => {
  const rest = createRestRegistry({ baseUrl: 'http://rest-registry.test' })

  it('reads a household, says null for a 404, and writes with an Idempotency-Key', async () => {
    let key: string | null = null
    server.use(
      http.get('http://rest-registry.test/households/:id', ({ params }) =>
        params.id === 'RSU-0000003'
          ? HttpResponse.json({ id: 'RSU-0000003', areaCode: KATI, members: 9, pmtScore: 17.2 })
          : new HttpResponse(null, { status: 404 }),
      ),
      http.put('http://rest-registry.test/households/:id/eligibility', ({ request }) => {
        key = request.headers.get('idempotency-key')
        return HttpResponse.json({ reference: 'W-1' })
      }),
    )
    expect(await rest.getHousehold('RSU-0000003')).toMatchObject({ members: 9, eligible: null })
    expect(await rest.getHousehold('RSU-0000404')).toBeNull()
    expect(await rest.updateEligibility(update, 'k-rest')).toEqual({ reference: 'W-1' })
    expect(key).toBe('k-rest')
  })
})

describe('without REGISTRY_URL', () => {
  let tdb: TestDatabase
  beforeAll(async () => {
    tdb = await createTestDatabase()
    await seedGeography(tdb.db)
    await tdb.db
      .insertInto('households')
      .values({ id: 'RSU-LOCAL-1', areaCode: KATI, members: 4, pmtScore: 33 })
      .execute()
  })
  afterAll(() => tdb?.drop())

  it('uses the households table as the registry', async () => {
    const registry = createRegistryClient({ adapter: 'dci' }, tdb.db)
    expect(registry.kind).toBe('database')
    expect(await registry.getHousehold('RSU-LOCAL-1')).toMatchObject({
      areaCode: KATI,
      pmtScore: 33,
    })
    await registry.updateEligibility({ ...update, householdId: 'RSU-LOCAL-1' }, 'k')
    const row = await createDatabaseRegistry(tdb.db).getHousehold('RSU-LOCAL-1')
    expect(row).toMatchObject({ pmtScore: 21.3, eligible: true, members: 9 })
  })
})
