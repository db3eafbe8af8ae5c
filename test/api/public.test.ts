import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { onError } from '../../api/errors'
import { publicRoutes } from '../../api/routes/public'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'

import { eventually, mailbox, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

function app(limits?: { submit: number; track: number; windowMs: number }) {
  return new OpenAPIHono()
    .route(
      '/api/public',
      publicRoutes({ db: tdb.db, temporal: client, taskQueue: worker.taskQueue, limits }),
    )
    .onError(onError(createLogger('silent', false)))
}
const post = (a: ReturnType<typeof app>, path: string, body: unknown) =>
  a.request(`/api/public${path}`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })

describe('public intake and tracking', () => {
  it('registers an anonymous grievance with a reference and a PIN shown once, and keeps no contact', async () => {
    const a = app()
    const response = await post(a, '/grievances', {
      communeCode: 'ML-2-KATI-KATI',
      category: 'payment_not_received',
      narrative: "Je n'ai pas reçu le paiement du trimestre.",
      anonymous: true,
      contact: { email: 'ne-pas-garder@exemple.ml' },
    })
    expect(response.status).toBe(201)
    const receipt = (await response.json()) as { reference: string; pin: string; message: string }
    expect(receipt.reference).toMatch(/^PL-\d{4}-[2-9A-Z]{6}$/)
    expect(receipt.pin).toMatch(/^\d{6}$/)
    expect(receipt.message).toContain('Conservez')

    const row = await eventually(() =>
      tdb.db
        .selectFrom('cases')
        .select(['id', 'channel', 'stage'])
        .where('reference', '=', receipt.reference)
        .executeTakeFirst(),
    )
    expect(row.channel).toBe('web')
    const contacts = await tdb.db
      .selectFrom('complainantContacts')
      .selectAll()
      .where('caseId', '=', row.id)
      .execute()
    expect(contacts).toEqual([])
    const stored = JSON.stringify(
      await tdb.db
        .selectFrom('caseTracking')
        .selectAll()
        .where('reference', '=', receipt.reference)
        .execute(),
    )
    expect(stored).not.toContain(receipt.pin)

    const tracked = await post(a, '/track', {
      reference: receipt.reference,
      pin: receipt.pin,
      locale: 'en',
    })
    expect(tracked.status).toBe(200)
    expect(await tracked.json()).toMatchObject({
      reference: receipt.reference,
      status: 'received',
      message: 'Your grievance has been received and will be reviewed.',
      submittedAt: expect.stringMatching(/^\d{4}-\d{2}-\d{2}T/),
    })
  })

  it('answers a wrong PIN exactly like an unknown reference, and locks after five wrong PINs', async () => {
    const a = app()
    const { reference, pin } = (await (
      await post(a, '/grievances', {
        communeCode: 'ML-2-KATI-KATI',
        narrative: 'Mon nom a disparu de la liste des bénéficiaires.',
      })
    ).json()) as { reference: string; pin: string }
    const wrong = pin === '000000' ? '111111' : '000000'
    const bad = await post(a, '/track', { reference, pin: wrong })
    const unknown = await post(a, '/track', { reference: 'PL-2026-ZZZZZZ', pin })
    expect(bad.status).toBe(404)
    expect(await bad.json()).toEqual(await unknown.json())
    for (let i = 0; i < 4; i++) await post(a, '/track', { reference, pin: wrong })
    const locked = await post(a, '/track', { reference, pin })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('locks the reference under 30 concurrent wrong PINs: at most five are ever checked', async () => {
    const a = app({ submit: 10, track: 1_000, windowMs: 60_000 })
    const { reference, pin } = (await (
      await post(a, '/grievances', {
        communeCode: 'ML-2-KATI-KATI',
        narrative: 'On me demande de payer pour rester sur la liste.',
      })
    ).json()) as { reference: string; pin: string }
    const wrong = pin === '000000' ? '111111' : '000000'
    const answers = await Promise.all(
      Array.from({ length: 30 }, () => post(a, '/track', { reference, pin: wrong })),
    )
    const statuses = answers.map((r) => r.status)
    expect(statuses.filter((s) => s === 404)).toHaveLength(5)
    expect(statuses.filter((s) => s === 429)).toHaveLength(25)
    // Locked: even the right PIN waits.
    const locked = await post(a, '/track', { reference, pin })
    expect(locked.status).toBe(429)
    expect(Number(locked.headers.get('retry-after'))).toBeGreaterThan(0)
  })

  it('acknowledges by email when the complainant gives an address, without the PIN', async () => {
    const email = 'plaignant.public@exemple.ml'
    const { reference, pin } = (await (
      await post(app(), '/grievances', {
        communeCode: 'ML-2-KATI-KATI',
        narrative: 'Le montant reçu est inférieur à celui annoncé.',
        contact: { email },
        locale: 'en',
      })
    ).json()) as { reference: string; pin: string }
    const [ack] = await eventually(async () => {
      const mail = await mailbox(email)
      return mail.length ? mail : undefined
    })
    expect(ack!.subject + ack!.text).toContain(reference)
    expect(ack!.text).not.toContain(pin)
  })

  it('refuses bad input with field errors and an unknown commune, creating nothing', async () => {
    const before = await tdb.db
      .selectFrom('cases')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    const invalid = await post(app(), '/grievances', { communeCode: 'Kati', narrative: 'court' })
    expect(invalid.status).toBe(400)
    const body = (await invalid.json()) as { error: { code: string; details: { path: string }[] } }
    expect(body.error.code).toBe('VALIDATION_FAILED')
    expect(body.error.details.map((d) => d.path).sort()).toEqual(['communeCode', 'narrative'])
    const unknownCommune = await post(app(), '/grievances', {
      communeCode: 'ML-9-NOWHERE',
      narrative: 'Une plainte valide mais une commune inconnue.',
    })
    expect(unknownCommune.status).toBe(400)
    const after = await tdb.db
      .selectFrom('cases')
      .select((eb) => eb.fn.countAll().as('n'))
      .executeTakeFirstOrThrow()
    expect(after.n).toBe(before.n)
  })

  it('lists the communes (with their cercle and region) and categories the form offers, cacheable', async () => {
    const response = await app().request('/api/public/options')
    expect(response.status).toBe(200)
    expect(response.headers.get('cache-control')).toMatch(/^public, max-age=\d+/)
    const body = (await response.json()) as {
      communes: { code: string; name: string; cercle: string; region: string }[]
      categories: { code: string; labelFr: string; labelEn: string }[]
    }
    expect(body.communes).toContainEqual({
      code: 'ML-2-KATI-KATI',
      name: 'Kati',
      cercle: 'Kati',
      region: 'Koulikoro',
    })
    // Communes only: a region or a cercle is not a place where a grievance can be filed.
    const communes = await tdb.db
      .selectFrom('adminAreas')
      .select('code')
      .where('level', '=', 'commune')
      .execute()
    expect(body.communes.map((c) => c.code).sort()).toEqual(communes.map((c) => c.code).sort())
    expect(body.categories).toContainEqual({
      code: 'payment_not_received',
      labelFr: expect.any(String),
      labelEn: expect.any(String),
    })
    // An inactive category is no longer offered.
    await tdb.db
      .updateTable('categories')
      .set({ active: false })
      .where('code', '=', 'wrong_amount')
      .execute()
    const fresh = (await (await app().request('/api/public/options')).json()) as typeof body
    expect(fresh.categories.map((c) => c.code)).not.toContain('wrong_amount')
    expect(fresh.categories.map((c) => c.code)).toContain('payment_not_received')
    await tdb.db
      .updateTable('categories')
      .set({ active: true })
      .where('code', '=', 'wrong_amount')
      .execute()
  })

  it('rate-limits submissions with a retry hint', async () => {
    const a = app({ submit: 2, track: 30, windowMs: 60_000 })
    const body = {
      communeCode: 'ML-2-KATI-KATI',
      narrative: 'Plainte répétée pour tester la limite.',
    }
    expect((await post(a, '/grievances', body)).status).toBe(201)
    expect((await post(a, '/grievances', body)).status).toBe(201)
    const limited = await post(a, '/grievances', body)
    expect(limited.status).toBe(429)
    expect(limited.headers.get('retry-after')).toBeTruthy()
  })
})
