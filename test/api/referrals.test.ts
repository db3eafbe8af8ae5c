import { OpenAPIHono } from '@hono/zod-openapi'
import type { Client } from '@temporalio/client'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { requireAuth } from '../../api/auth/middleware'
import { createApiToken } from '../../api/auth/sessions'
import type { AppEnv } from '../../api/auth/types'
import { onError } from '../../api/errors'
import { casesRoutes } from '../../api/routes/cases'
import { referralsRoutes } from '../../api/routes/referrals'
import { partnersRoutes } from '../../api/routes/reference/partners'
import { partnerWebhookRoutes } from '../../api/routes/partner-webhooks'
import { testCipher } from '../helpers/codec'
import { caseWorkflowId } from '../../workflows/messages'
import { appSignedInByHeader } from '../helpers/api'
import { startCaseStack, stopCaseStack } from '../helpers/case-stack'
import type { TestDatabase } from '../helpers/db'
import { grievanceInput, userId } from '../helpers/fixtures'
import { eventually, type RunningWorker } from '../helpers/temporal'

let tdb: TestDatabase
let client: Client
let worker: RunningWorker
let app: OpenAPIHono<AppEnv>
/** The same routes behind the real authentication: what a partner system calls with its token. */
let tokenApp: OpenAPIHono<AppEnv>
let pamToken: string

const STAFF = 'agent.kati.1'
const OTHER_COMMUNE = 'agent.sikasso.1'
const RED_CROSS = 'partenaire.croix-rouge'
const PAM = 'partenaire.pam'

const get = (path: string, user: string) => app.request(path, { headers: { 'x-test-user': user } })
const post = (path: string, user: string, body: unknown) =>
  app.request(path, {
    method: 'POST',
    headers: { 'x-test-user': user, 'content-type': 'application/json' },
    body: JSON.stringify(body),
  })
const list = async (user: string) => {
  const res = await get('/api/referrals', user)
  expect(res.status).toBe(200)
  return {
    range: res.headers.get('content-range'),
    rows: (await res.json()) as Record<string, unknown>[],
  }
}
const referralCount = async () =>
  Number(
    (
      await tdb.db
        .selectFrom('referrals')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .executeTakeFirstOrThrow()
    ).n,
  )

beforeAll(async () => {
  ;({ tdb, client, worker } = await startCaseStack())
  await tdb.db
    .insertInto('slaPolicies')
    .values({
      caseKind: 'referral',
      category: null,
      priority: null,
      targets: { partnerResponse: 3600, delivery: 3600, followUp: 3600 },
    })
    .execute()
  const deps = { db: tdb.db, temporal: client, taskQueue: worker.taskQueue }
  app = appSignedInByHeader(tdb.db, (api) => {
    api.route('/api/referrals', referralsRoutes(deps))
    api.route('/api/cases', casesRoutes(deps))
    api.route('/api/partners', partnersRoutes({ db: tdb.db }))
    api.route('/api/partners', partnerWebhookRoutes({ db: tdb.db, cipher: testCipher }))
  })
  tokenApp = new OpenAPIHono<AppEnv>()
  tokenApp.use('/api/*', requireAuth({ db: tdb.db }))
  tokenApp.route('/api/referrals', referralsRoutes(deps))
  tokenApp.onError(onError(createLogger('silent', false)))
  ;({ token: pamToken } = await createApiToken(tdb.db, {
    name: 'PAM referral system',
    userId: await userId(tdb.db, PAM),
  }))
})
afterAll(() => stopCaseStack({ tdb, client, worker }))

describe('referrals API', () => {
  let id: string

  it('staff refer a household with consent; it goes to the first partner covering the service', async () => {
    const res = await post('/api/referrals', STAFF, {
      areaCode: 'ML-2-KATI-KATI',
      serviceCode: 'cash_transfer',
      householdId: 'HH-0001',
      consent: { given: true, method: 'verbal' },
    })
    expect(res.status).toBe(201)
    const body = (await res.json()) as Record<string, unknown>
    id = body.id as string
    expect(body).toMatchObject({
      serviceCode: 'cash_transfer',
      partnerCode: 'croix-rouge',
      status: 'open',
      stage: 'awaiting_partner',
      partnerStatus: 'awaiting_response',
      slaState: 'on_track',
      consent: { given: true, method: 'verbal', overridden: false },
    })
    expect(typeof body.dueAt).toBe('string')
  })

  it('a partner user sees only its own organisation’s referrals; another’s answers 404 like a missing one', async () => {
    const redCross = await list(RED_CROSS)
    expect(redCross.rows.map((r) => r.id)).toEqual([id])
    expect(redCross.range).toBe('referrals 0-0/1')
    // Before accepting, the partner does not get the household id nor the source case.
    expect(redCross.rows[0]).toMatchObject({ householdId: null, sourceCaseId: null })

    expect((await list(PAM)).rows).toEqual([])
    expect((await list(PAM)).range).toBe('referrals */0')
    const theirs = await get(`/api/referrals/${id}`, PAM)
    const missing = await get('/api/referrals/RF-00000000', PAM)
    expect(theirs.status).toBe(404)
    expect(missing.status).toBe(404)
    expect(await theirs.json()).toEqual(await missing.json())
    expect((await post(`/api/referrals/${id}/accept`, PAM, {})).status).toBe(404)

    // Staff see it through its case's area; staff of another commune do not; nor does an admin.
    expect((await list(STAFF)).rows.map((r) => r.id)).toEqual([id])
    expect((await list(OTHER_COMMUNE)).rows).toEqual([])
    expect((await list('admin')).rows).toEqual([])
    // Staff do not answer for a partner.
    const staffAccept = await post(`/api/referrals/${id}/accept`, STAFF, {})
    expect(staffAccept.status).toBe(403)
  })

  it('the partner declines with a reason in the console; the next partner’s system accepts and reports with its token', async () => {
    const bad = await post(`/api/referrals/${id}/decline`, RED_CROSS, { reason: 'bored' })
    expect(bad.status).toBe(422)
    expect(((await bad.json()) as { error: { code: string } }).error.code).toBe('INVALID_COMMAND')

    const declined = await post(`/api/referrals/${id}/decline`, RED_CROSS, {
      reason: 'no_capacity',
    })
    expect(declined.status).toBe(200)
    // The declining partner does not learn where the referral went, and no longer sees it.
    expect(await declined.json()).toMatchObject({ partnerCode: null, partnerStatus: 'unrouted' })
    expect((await list(RED_CROSS)).rows).toEqual([])
    expect((await get(`/api/referrals/${id}`, RED_CROSS)).status).toBe(404)

    const auth = { authorization: `Bearer ${pamToken}`, 'content-type': 'application/json' }
    const listed = await tokenApp.request('/api/referrals', { headers: auth })
    expect(listed.status).toBe(200)
    expect(((await listed.json()) as { id: string }[]).map((r) => r.id)).toEqual([id])
    const accepted = await tokenApp.request(`/api/referrals/${id}/accept`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    })
    expect(accepted.status).toBe(200)
    // Once accepted, the partner gets the household id it must serve.
    expect(await accepted.json()).toMatchObject({
      partnerCode: 'pam',
      partnerStatus: 'accepted',
      stage: 'in_service',
      householdId: 'HH-0001',
    })
    const again = await tokenApp.request(`/api/referrals/${id}/accept`, {
      method: 'POST',
      headers: auth,
      body: '{}',
    })
    expect(again.status).toBe(409)
    expect(((await again.json()) as { error: { code: string } }).error.code).toBe('WRONG_STAGE')
    const reported = await tokenApp.request(`/api/referrals/${id}/report`, {
      method: 'POST',
      headers: auth,
      body: JSON.stringify({ outcome: 'delivered' }),
    })
    expect(reported.status).toBe(200)
    expect(await reported.json()).toMatchObject({ partnerStatus: 'delivered', stage: 'follow_up' })
    // Without a token, nothing.
    expect((await tokenApp.request('/api/referrals')).status).toBe(401)
  })

  it('a sensitive case is referred only with consent, or by someone holding the override permission (audited)', async () => {
    const source = grievanceInput({ category: 'sea_gbv', sensitive: true })
    await client.workflow.start('grievanceWorkflow', {
      workflowId: caseWorkflowId(source.caseId),
      taskQueue: worker.taskQueue,
      args: [source],
    })
    await eventually(
      () =>
        tdb.db.selectFrom('cases').select('id').where('id', '=', source.caseId).executeTakeFirst(),
      { what: 'the sensitive case' },
    )
    const FOCAL = 'point-focal.koulikoro'
    const before = await referralCount()
    const body = {
      sourceCaseId: source.caseId,
      serviceCode: 'gbv_services',
      consent: { given: false },
    }
    const refused = await post('/api/referrals', FOCAL, body)
    expect(refused.status).toBe(422)
    expect(((await refused.json()) as { error: { code: string } }).error.code).toBe(
      'CONSENT_REQUIRED',
    )
    const override = { ...body, overrideConsent: { reason: 'Danger immédiat pour la personne' } }
    const notAllowed = await post('/api/referrals', FOCAL, override)
    expect(notAllowed.status).toBe(403)
    expect(((await notAllowed.json()) as { error: { code: string } }).error.code).toBe(
      'CONSENT_OVERRIDE_NOT_ALLOWED',
    )
    expect(await referralCount()).toBe(before)
    // Someone without clearance does not even see the sensitive case.
    expect((await post('/api/referrals', STAFF, override)).status).toBe(404)

    await tdb.db
      .updateTable('users')
      .set({ canOverrideConsent: true })
      .where('username', '=', FOCAL)
      .execute()
    const created = await post('/api/referrals', FOCAL, override)
    expect(created.status).toBe(201)
    const referral = (await created.json()) as { id: string; sensitive: boolean }
    expect(referral).toMatchObject({
      sensitive: true,
      partnerCode: 'one-stop-center',
      consent: { given: false, overridden: true },
    })
    const audited = await tdb.db
      .selectFrom('caseEvents')
      .select(['actorId', 'type'])
      .where('caseId', '=', referral.id)
      .where('type', '=', 'referral.consent_overridden')
      .executeTakeFirstOrThrow()
    expect(audited.actorId).toBe(await userId(tdb.db, FOCAL))
    // The source case shows the referral in its chain of linked cases.
    const link = await tdb.db
      .selectFrom('caseLinks')
      .selectAll()
      .where('fromCaseId', '=', source.caseId)
      .executeTakeFirst()
    expect(link).toMatchObject({ toCaseId: referral.id, kind: 'spawned' })
  })

  it('a grievance-only command sent to a referral is refused with a stable code, not a server error', async () => {
    // A referral keeps the kernel's clock (pause, resume, extend) but no complainant's satisfaction.
    const res = await post(`/api/cases/${id}/satisfaction`, 'superviseur.cercle.kati', {
      satisfaction: 'satisfied',
    })
    expect(res.status).toBe(409)
    expect(((await res.json()) as { error: { code: string } }).error.code).toBe(
      'ACTION_NOT_SUPPORTED',
    )
  })

  it('an administrator sets the coverage order: the partner with the lowest priority gets the next referral first', async () => {
    const put = await app.request('/api/partners/pam', {
      method: 'PUT',
      headers: { 'x-test-user': 'admin', 'content-type': 'application/json' },
      body: JSON.stringify({
        services: [
          { serviceCode: 'cash_transfer', areaCode: 'ML', priority: 10 },
          { serviceCode: 'food_assistance', areaCode: 'ML' },
        ],
      }),
    })
    expect(put.status).toBe(200)
    expect(((await put.json()) as { services: unknown[] }).services).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ serviceCode: 'cash_transfer', priority: 10 }),
        expect.objectContaining({ serviceCode: 'food_assistance', priority: 100 }),
      ]),
    )
    const res = await post('/api/referrals', STAFF, {
      areaCode: 'ML-2-KATI-KATI',
      serviceCode: 'cash_transfer',
      consent: { given: true, method: 'written' },
    })
    expect(res.status).toBe(201)
    expect(await res.json()).toMatchObject({ partnerCode: 'pam' })
  })

  it('an administrator sets a partner’s webhook; the secret is stored encrypted and never shown', async () => {
    const put = (user: string, body: unknown) =>
      app.request('/api/partners/unicef/webhook', {
        method: 'PUT',
        headers: { 'x-test-user': user, 'content-type': 'application/json' },
        body: JSON.stringify(body),
      })
    const webhook = { url: 'https://unicef.example.org/rsu', secret: 'a-long-enough-shared-secret' }
    expect((await put(STAFF, webhook)).status).toBe(403)
    expect((await put('partenaire.unicef', webhook)).status).toBe(403)
    expect((await put('admin', { url: webhook.url })).status).toBe(422)
    expect((await put('admin', { ...webhook, url: 'ftp://unicef.example.org' })).status).toBe(422)
    const res = await put('admin', webhook)
    expect(res.status).toBe(200)
    const body = await res.json()
    expect(body).toEqual({ partnerCode: 'unicef', url: webhook.url, hasSecret: true })
    expect(JSON.stringify(body)).not.toContain(webhook.secret)
    const stored = await tdb.db
      .selectFrom('partners')
      .select('webhookSecret')
      .where('code', '=', 'unicef')
      .executeTakeFirstOrThrow()
    expect(stored.webhookSecret).toMatch(/^enc:v1:/)
    expect(testCipher.decrypt(stored.webhookSecret!)).toBe(webhook.secret)
    // Loopback, private, metadata and plain-http targets are refused when saved, with a code,
    // and the webhook in place stays as it was (the worker checks again at each delivery).
    for (const [url, code] of [
      ['http://unicef.example.org/rsu', 'WEBHOOK_HTTPS_REQUIRED'],
      ['https://127.0.0.1:8080/rsu', 'WEBHOOK_ADDRESS_FORBIDDEN'],
      ['https://2130706433/rsu', 'WEBHOOK_ADDRESS_FORBIDDEN'],
      ['https://[::1]/rsu', 'WEBHOOK_ADDRESS_FORBIDDEN'],
      ['https://169.254.169.254/latest/meta-data', 'WEBHOOK_ADDRESS_FORBIDDEN'],
      ['https://10.0.0.7/rsu', 'WEBHOOK_ADDRESS_FORBIDDEN'],
    ] as const) {
      const refused = await put('admin', { ...webhook, url })
      expect(refused.status, url).toBe(422)
      expect(((await refused.json()) as { error: { code: string } }).error.code, url).toBe(code)
    }
    const kept = await app.request('/api/partners/unicef/webhook', {
      headers: { 'x-test-user': 'admin' },
    })
    expect(await kept.json()).toEqual({ partnerCode: 'unicef', url: webhook.url, hasSecret: true })
    const removed = await put('admin', { url: null })
    expect(await removed.json()).toEqual({ partnerCode: 'unicef', url: null, hasSecret: false })
  })
})
