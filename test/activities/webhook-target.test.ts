import { createServer, type Server } from 'node:net'
import { http, HttpResponse } from 'msw'
import { setupServer } from 'msw/node'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import { createReferralActivities, setPartnerWebhook } from '../../activities/referrals/activities'
import {
  checkWebhookUrl,
  isForbiddenAddress,
  resolveWebhookTarget,
  STRICT_WEBHOOKS,
  type Resolve,
} from '../../activities/referrals/webhook-target'
import { testCipher } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'

const code = (fn: () => unknown) => {
  try {
    fn()
    return 'accepted'
  } catch (error) {
    return (error as { code?: string }).code ?? String(error)
  }
}

describe('the webhook target guard', () => {
  it('refuses loopback, private, link-local, metadata and reserved addresses, IPv4 and IPv6', () => {
    for (const address of [
      '127.0.0.1',
      '127.1.2.3',
      '0.0.0.0',
      '10.0.0.5',
      '172.16.0.1',
      '172.31.255.255',
      '192.168.1.10',
      '169.254.169.254',
      '100.100.100.200',
      '224.0.0.1',
      '255.255.255.255',
      '::',
      '::1',
      '[::1]',
      'fe80::1',
      'fe80::1%eth0',
      'fc00::1',
      'fd00:ec2::254',
      '::ffff:127.0.0.1',
      '::ffff:7f00:1',
      '::ffff:169.254.169.254',
      '64:ff9b::a9fe:a9fe',
      '2002:7f00:1::',
      'ff02::1',
      'not-an-ip',
    ]) {
      expect(isForbiddenAddress(address), address).toBe(true)
    }
    for (const address of ['93.184.215.14', '41.73.120.5', '172.32.0.1', '2606:4700::6810:84e5']) {
      expect(isForbiddenAddress(address), address).toBe(false)
    }
  })

  it('reads decimal, octal and hexadecimal IPv4 spellings as the addresses they are', () => {
    for (const url of [
      'https://2130706433/hook',
      'https://0177.0.0.1/hook',
      'https://0x7f.1/hook',
      'https://0x7f000001/hook',
      'https://127.1/hook',
      'https://[::1]/hook',
      'https://[::ffff:127.0.0.1]/hook',
      'https://169.254.169.254/latest/meta-data',
      'https://0xa9.0xfe.0xa9.0xfe/',
      'https://3232235777/',
    ]) {
      expect(
        code(() => checkWebhookUrl(url, STRICT_WEBHOOKS)),
        url,
      ).toBe('WEBHOOK_ADDRESS_FORBIDDEN')
    }
    expect(code(() => checkWebhookUrl('https://93.184.215.14/hook', STRICT_WEBHOOKS))).toBe(
      'accepted',
    )
  })

  it('https only when the policy says so, no credentials, and the allow-list when there is one', () => {
    expect(code(() => checkWebhookUrl('http://partner.example.org/h', STRICT_WEBHOOKS))).toBe(
      'WEBHOOK_HTTPS_REQUIRED',
    )
    const embedded = { httpsOnly: false, allowedHosts: [] }
    expect(code(() => checkWebhookUrl('http://partner.example.org/h', embedded))).toBe('accepted')
    expect(code(() => checkWebhookUrl('http://127.0.0.1:8080/h', embedded))).toBe(
      'WEBHOOK_ADDRESS_FORBIDDEN',
    )
    expect(code(() => checkWebhookUrl('https://u:p@partner.example.org/', STRICT_WEBHOOKS))).toBe(
      'WEBHOOK_URL_INVALID',
    )
    expect(code(() => checkWebhookUrl('ftp://partner.example.org/', embedded))).toBe(
      'WEBHOOK_URL_INVALID',
    )
    const listed = { httpsOnly: true, allowedHosts: ['hooks.unicef.org', '*.ngo.ml'] }
    expect(code(() => checkWebhookUrl('https://hooks.unicef.org/x', listed))).toBe('accepted')
    expect(code(() => checkWebhookUrl('https://a.b.ngo.ml/x', listed))).toBe('accepted')
    expect(code(() => checkWebhookUrl('https://ngo.ml/x', listed))).toBe('WEBHOOK_HOST_NOT_ALLOWED')
    expect(code(() => checkWebhookUrl('https://evilngo.ml/x', listed))).toBe(
      'WEBHOOK_HOST_NOT_ALLOWED',
    )
    expect(code(() => checkWebhookUrl('https://unicef.org.attacker.ml/x', listed))).toBe(
      'WEBHOOK_HOST_NOT_ALLOWED',
    )
  })

  it('checks every address a name resolves to', async () => {
    const resolve: Resolve = async (host) =>
      host === 'mixed.example.org'
        ? [{ address: '93.184.215.14' }, { address: '10.1.2.3' }]
        : [{ address: '93.184.215.14' }]
    await expect(
      resolveWebhookTarget('https://mixed.example.org/h', STRICT_WEBHOOKS, resolve),
    ).rejects.toMatchObject({ code: 'WEBHOOK_ADDRESS_FORBIDDEN' })
    await expect(
      resolveWebhookTarget('https://ok.example.org/h', STRICT_WEBHOOKS, resolve),
    ).resolves.toMatchObject({ addresses: ['93.184.215.14'] })
    // `localhost` through the system resolver: loopback.
    await expect(
      resolveWebhookTarget('https://localhost/h', STRICT_WEBHOOKS),
    ).rejects.toMatchObject({ code: 'WEBHOOK_ADDRESS_FORBIDDEN' })
  })
})

// ---- At delivery ----

let tdb: TestDatabase
let listener: Server
let port: number
let connections = 0
const redirected: string[] = []
const msw = setupServer(
  http.post('https://moved.example.org/hook', () =>
    HttpResponse.text('', { status: 302, headers: { location: 'https://inner.example.org/x' } }),
  ),
  http.post('https://inner.example.org/x', ({ request }) => {
    redirected.push(request.url)
    return HttpResponse.text('ok')
  }),
)

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  // A loopback listener standing for an internal service: it must never be reached.
  listener = createServer((socket) => {
    connections++
    socket.destroy()
  })
  await new Promise<void>((resolve) => listener.listen(0, '127.0.0.1', resolve))
  port = (listener.address() as { port: number }).port
  msw.listen({ onUnhandledRequest: 'bypass' })
}, 60_000)
afterAll(async () => {
  msw.close()
  await new Promise((resolve) => listener?.close(resolve))
  await tdb?.drop()
})

const event = (key: string) => ({
  key,
  partnerCode: 'unicef',
  caseId: 'RF-test',
  type: 'referral.routed' as const,
  occurredAt: new Date().toISOString(),
  data: {
    referralId: 'RF-test',
    reference: 'RF-test',
    serviceCode: 'gbv_care',
    areaCode: 'ML-2-KATI-KATI',
    respondBy: null,
  },
})

describe('a webhook delivery', () => {
  it('to a name resolving to loopback is refused at send time, final, and nothing is sent', async () => {
    // Stored as an older release (or a direct write) would have: only delivery stands in the way.
    await setPartnerWebhook(tdb.db, testCipher, 'unicef', {
      url: `http://localhost:${port}/hook`,
      secret: 'a-long-enough-shared-secret',
    })
    const activities = createReferralActivities({
      db: tdb.db,
      cipher: testCipher,
      webhooks: { httpsOnly: false, allowedHosts: [] },
    })
    await expect(activities.deliverPartnerWebhook(event('k-loopback'))).rejects.toMatchObject({
      type: 'WEBHOOK_ADDRESS_FORBIDDEN',
      nonRetryable: true,
    })
    expect(connections).toBe(0)
    const row = await tdb.db
      .selectFrom('webhookDeliveries')
      .select('status')
      .where('key', '=', 'k-loopback')
      .executeTakeFirstOrThrow()
    expect(row.status).toBe('failed')
  })

  it('never follows a redirect: a 3xx is a final failure', async () => {
    await setPartnerWebhook(tdb.db, testCipher, 'unicef', {
      url: 'https://moved.example.org/hook',
      secret: 'a-long-enough-shared-secret',
    })
    const activities = createReferralActivities({
      db: tdb.db,
      cipher: testCipher,
      resolve: async () => [{ address: '93.184.215.14' }],
    })
    await expect(activities.deliverPartnerWebhook(event('k-redirect'))).rejects.toMatchObject({
      type: 'WEBHOOK_REDIRECTED',
      nonRetryable: true,
    })
    expect(redirected).toEqual([])
  })
})
