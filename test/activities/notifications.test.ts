import { mkdtemp, rm } from 'node:fs/promises'
import type { AddressInfo } from 'node:net'
import { tmpdir } from 'node:os'
import path from 'node:path'
import nodemailer, { type Transporter } from 'nodemailer'
import { SMTPServer } from 'smtp-server'
import { afterAll, beforeAll, describe, expect, it } from 'vitest'
import type { Db } from '../../activities/db/db'
import { createLogger } from '../../activities/infra/logger'
import { startMailSink, type MailSink } from '../../activities/mail/sink'
import {
  createNotificationActivities,
  deliverDueNotifications,
  notificationMessageId,
  type NotificationDeps,
} from '../../activities/notifications/deliver'
import { queueNotifications, type NotificationRequest } from '../../activities/notifications/outbox'
import {
  renderNotification,
  TEMPLATE_NAMES,
  type TemplateParams,
} from '../../activities/notifications/templates'
import { createTestDatabase, type TestDatabase } from '../helpers/db'

const log = createLogger('silent', false)
const FROM = 'RSU Casework <no-reply@rsu.localhost>'
const NARRATIVE = 'Mon voisin Moussa Traoré (76 12 34 56) a détourné mon paiement'

let testDb: TestDatabase
let db: Db
let sink: MailSink
let sinkDir: string
const transports: Transporter[] = []
const servers: SMTPServer[] = []

beforeAll(async () => {
  testDb = await createTestDatabase()
  db = testDb.db
  sinkDir = await mkdtemp(path.join(tmpdir(), 'rsu-notify-'))
  sink = await startMailSink({ host: '127.0.0.1', smtpPort: 0, dir: sinkDir, log })
})

afterAll(async () => {
  for (const t of transports) t.close()
  await Promise.all(servers.map((s) => new Promise<void>((resolve) => s.close(() => resolve()))))
  await sink?.stop()
  await testDb?.drop()
  if (sinkDir) await rm(sinkDir, { recursive: true, force: true })
})

function transportTo(url: string): Transporter {
  const transport = nodemailer.createTransport(url)
  transports.push(transport)
  return transport
}

let counter = 0
function request(overrides: Partial<NotificationRequest> = {}): NotificationRequest {
  counter++
  return {
    dedupeKey: `case-G${counter}:1:user-${counter}`,
    caseId: null,
    template: 'acknowledgement',
    locale: 'fr',
    recipient: `plaignant.${counter}@rsu.localhost`,
    params: { reference: `PL-2026-${String(counter).padStart(6, '0')}` },
    ...overrides,
  }
}

async function queue(...items: NotificationRequest[]) {
  await db.transaction().execute((trx) => queueNotifications(trx, items))
}

function outboxRow(dedupeKey: string) {
  return db
    .selectFrom('notificationOutbox')
    .selectAll()
    .where('dedupeKey', '=', dedupeKey)
    .executeTakeFirstOrThrow()
}

function received(dedupeKey: string) {
  return sink.messages().filter((m) => m.messageId === notificationMessageId(dedupeKey))
}

/** A real SMTP server that refuses every message with this reply. */
async function refusingSmtp(responseCode: number, message: string) {
  let calls = 0
  const server = new SMTPServer({
    authOptional: true,
    disabledCommands: ['STARTTLS'],
    logger: false,
    onData(stream, _session, callback) {
      calls++
      stream.on('end', () => {
        const error = Object.assign(new Error(message), { responseCode })
        callback(error)
      })
      stream.resume()
    },
  })
  servers.push(server)
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', () => resolve()))
  const { port } = server.server.address() as AddressInfo
  return { url: `smtp://127.0.0.1:${port}`, calls: () => calls }
}

describe('notification delivery through the outbox', () => {
  const deps = (): NotificationDeps => ({ db, transport: transportTo(sink.smtpUrl), from: FROM })

  it('delivers an acknowledgement once, in French, with a Message-ID derived from its key', async () => {
    const item = request()
    await queue(item)
    const { deliverNotification } = createNotificationActivities(deps())

    expect(await deliverNotification(item.dedupeKey)).toBe('sent')
    const [mail, ...others] = received(item.dedupeKey)
    expect(others).toEqual([])
    expect(mail).toBeDefined()
    expect(mail!.messageId).toMatch(/^<[0-9a-f]{32}@rsu-casework>$/)
    expect(mail!.to).toEqual([item.recipient])
    expect(mail!.subject).toContain(item.params.reference)
    expect(mail!.subject).toContain('plainte')
    expect(mail!.text).toContain(item.params.reference)
    expect(mail!.text).toContain('code PIN')

    const row = await outboxRow(item.dedupeKey)
    expect(row).toMatchObject({ status: 'sent', attempts: 1, lastError: null })
    expect(row.messageId).toBe(mail!.messageId)
    expect(row.sentAt).toBeInstanceOf(Date)

    // Retried activity (or a second workflow attempt): nothing is sent again.
    expect(await deliverNotification(item.dedupeKey)).toBe('already_sent')
    expect(received(item.dedupeKey)).toHaveLength(1)
  })

  it('writes in English on request, and in French when the row has no locale', async () => {
    const english = request({ locale: 'en' })
    await queue(english)
    const defaulted = request()
    // A row written without a locale (column default) is delivered in French.
    await db
      .insertInto('notificationOutbox')
      .values({
        dedupeKey: defaulted.dedupeKey,
        template: 'acknowledgement',
        recipient: defaulted.recipient,
        params: defaulted.params,
      })
      .execute()
    const { deliverNotification } = createNotificationActivities(deps())

    expect(await deliverNotification(english.dedupeKey)).toBe('sent')
    expect(await deliverNotification(defaulted.dedupeKey)).toBe('sent')
    const [en] = received(english.dedupeKey)
    expect(en?.subject).toBe(`Your grievance is registered: reference ${english.params.reference}`)
    expect(en?.text).toContain('tracking PIN')
    const [fr] = received(defaulted.dedupeKey)
    expect(fr?.subject).toBe(
      `Votre plainte est enregistrée : référence ${defaulted.params.reference}`,
    )
  })

  it('keeps one row when the same dedupe key is queued twice', async () => {
    const item = request()
    await queue(item)
    await queue({ ...item, params: { reference: 'PL-OTHER' } })
    await queue(item, item)
    const rows = await db
      .selectFrom('notificationOutbox')
      .select(['params'])
      .where('dedupeKey', '=', item.dedupeKey)
      .execute()
    expect(rows).toEqual([{ params: item.params }])
  })

  it('sends exactly one email when ten deliveries of one key run at once', async () => {
    const item = request({ template: 'new_task', params: { reference: 'PL-2026-CONC01' } })
    await queue(item)
    const { deliverNotification } = createNotificationActivities(deps())

    const results = await Promise.all(
      Array.from({ length: 10 }, () => deliverNotification(item.dedupeKey)),
    )
    expect(results.filter((r) => r === 'sent')).toHaveLength(1)
    expect(results.filter((r) => r === 'already_sent')).toHaveLength(9)
    expect(received(item.dedupeKey)).toHaveLength(1)
    expect(await outboxRow(item.dedupeKey)).toMatchObject({ status: 'sent', attempts: 1 })
  })

  it('never resends a notification whose sender died during the SMTP exchange: it is recorded as failed', async () => {
    const item = request({ template: 'new_task', params: { reference: 'PL-2026-DIED01' } })
    await queue(item)
    // What a worker killed between `sending` and its result leaves behind.
    await db
      .updateTable('notificationOutbox')
      .set({ status: 'sending', attempts: 1 })
      .where('dedupeKey', '=', item.dedupeKey)
      .execute()
    const { deliverNotification } = createNotificationActivities(deps())
    expect(await deliverNotification(item.dedupeKey)).toBe('failed')
    expect(received(item.dedupeKey)).toHaveLength(0)
    expect(await outboxRow(item.dedupeKey)).toMatchObject({
      status: 'failed',
      lastError: expect.stringContaining('INTERRUPTED'),
    })
  })

  it('retries a temporary refusal later, then records a final failure at the attempt cap', async () => {
    const smtp = await refusingSmtp(451, 'Mailbox <busy.person@rsu.localhost> busy, try later')
    const item = request()
    await queue(item)
    let clock = new Date()
    const { deliverNotification } = createNotificationActivities({
      db,
      transport: transportTo(smtp.url),
      from: FROM,
      maxAttempts: 2,
      now: () => clock,
    })

    await expect(deliverNotification(item.dedupeKey)).rejects.toThrow(/451/)
    const first = await outboxRow(item.dedupeKey)
    expect(first).toMatchObject({ status: 'pending', attempts: 1, messageId: null })
    expect(first.nextAttemptAt.getTime()).toBeGreaterThan(clock.getTime())
    expect(first.lastError).toContain('451')
    // The SMTP reply quoted an address: it is not kept.
    expect(first.lastError).not.toContain('@')
    expect(first.lastError).not.toContain(item.recipient)

    // Called again before the backoff has passed: nothing is attempted.
    expect(await deliverNotification(item.dedupeKey)).toBe('retry_later')
    expect(smtp.calls()).toBe(1)

    clock = new Date(first.nextAttemptAt.getTime() + 1000)
    expect(await deliverNotification(item.dedupeKey)).toBe('failed')
    expect(smtp.calls()).toBe(2)
    const last = await outboxRow(item.dedupeKey)
    expect(last).toMatchObject({ status: 'failed', attempts: 2, sentAt: null })
    expect(last.lastError).toMatch(/451/)
    expect(await deliverNotification(item.dedupeKey)).toBe('failed')
    expect(smtp.calls()).toBe(2)
  })

  it('gives up at once on a permanent refusal (550), and resolves', async () => {
    const smtp = await refusingSmtp(550, 'Message rejected as spam')
    const item = request()
    await queue(item)
    const { deliverNotification } = createNotificationActivities({
      db,
      transport: transportTo(smtp.url),
      from: FROM,
    })

    expect(await deliverNotification(item.dedupeKey)).toBe('failed')
    const row = await outboxRow(item.dedupeKey)
    expect(row).toMatchObject({ status: 'failed', attempts: 1 })
    expect(row.lastError).toContain('550')
    expect(row.lastError).toContain('rejected as spam')
    expect(smtp.calls()).toBe(1)
  })

  it('keeps the notification pending when the mail server is down', async () => {
    const item = request()
    await queue(item)
    const before = new Date()
    const { deliverNotification } = createNotificationActivities({
      db,
      transport: transportTo('smtp://127.0.0.1:1'),
      from: FROM,
    })

    await expect(deliverNotification(item.dedupeKey)).rejects.toThrow()
    const row = await outboxRow(item.dedupeKey)
    expect(row).toMatchObject({ status: 'pending', attempts: 1, messageId: null })
    expect(row.nextAttemptAt.getTime()).toBeGreaterThan(before.getTime())
    expect(row.lastError).toMatch(/ECONNREFUSED|ECONNECTION/)

    // Once the server is back and the backoff has passed, the same row goes out.
    const back = createNotificationActivities({
      ...deps(),
      now: () => new Date(row.nextAttemptAt.getTime() + 1000),
    })
    expect(await back.deliverNotification(item.dedupeKey)).toBe('sent')
    expect(received(item.dedupeKey)).toHaveLength(1)
    expect(await outboxRow(item.dedupeKey)).toMatchObject({ status: 'sent', attempts: 2 })
  })

  it('refuses to queue a malformed recipient, and queues nothing of that batch', async () => {
    const good = request()
    const bad = request({ recipient: 'Awa Diarra 76 00 00 00' })
    const error: unknown = await queue(good, bad).catch((e: unknown) => e)
    expect(error).toBeInstanceOf(Error)
    expect((error as Error).message).toMatch(/recipient is not an email address/)
    // The refusal names the item's position, not what it contained.
    expect((error as Error).message).not.toContain('Awa')
    const rows = await db
      .selectFrom('notificationOutbox')
      .select('id')
      .where('dedupeKey', 'in', [good.dedupeKey, bad.dedupeKey])
      .execute()
    expect(rows).toEqual([])
  })

  it('stores only template parameters, never a narrative passed by mistake', async () => {
    const item = request({
      params: { reference: 'PL-2026-NARR01', narrative: NARRATIVE } as TemplateParams,
    })
    await queue(item)
    expect((await outboxRow(item.dedupeKey)).params).toEqual({ reference: 'PL-2026-NARR01' })
    const { deliverNotification } = createNotificationActivities(deps())
    expect(await deliverNotification(item.dedupeKey)).toBe('sent')
    expect(received(item.dedupeKey)[0]?.text).not.toContain('Moussa')
  })
})

describe('notification templates', () => {
  const params = {
    reference: 'PL-2026-000042',
    link: 'https://rsu.example.ml/suivi',
    dueAt: '2026-09-23T09:30:00Z',
    taskKind: 'investigation',
    level: 'cercle',
    narrative: NARRATIVE,
    name: 'Awa Diarra',
    phone: '+223 76 12 34 56',
  } as TemplateParams

  it.each(TEMPLATE_NAMES.flatMap((t) => [[t, 'fr'] as const, [t, 'en'] as const]))(
    '%s (%s) shows the reference and nothing outside its parameters',
    (template, locale) => {
      const { subject, text } = renderNotification(template, locale, params)
      expect(subject).toContain('PL-2026-000042')
      expect(text).toContain('PL-2026-000042')
      for (const rendered of [subject, text]) {
        expect(rendered).not.toContain('Moussa')
        expect(rendered).not.toContain('Awa')
        expect(rendered).not.toContain('76 12 34 56')
        expect(rendered).not.toContain('undefined')
      }
    },
  )

  it('shows due times in Bamako time, the French way in French', () => {
    const fr = renderNotification('new_task', 'fr', params)
    expect(fr.text).toContain('23/09/2026 à 09:30')
    expect(fr.text).toContain('enquête')
    expect(fr.text).toContain('https://rsu.example.ml/suivi')
    const en = renderNotification('task_reminder', 'en', params)
    expect(en.text).toContain('23 September 2026 at 09:30')
    const escalation = renderNotification('escalation', 'fr', params)
    expect(escalation.text).toContain('cercle')
  })

  it('tells the complainant to keep the PIN without carrying one', () => {
    const fr = renderNotification('acknowledgement', 'fr', { reference: 'PL-2026-000043' })
    expect(fr.text).toMatch(/code PIN/)
    expect(fr.text).toMatch(/jamais envoyé par courriel/)
    // No number but the reference: no PIN, no phone number.
    expect(fr.text.replaceAll('PL-2026-000043', '')).not.toMatch(/\d/)
  })

  it('refuses a sentence where a reference or a code belongs', () => {
    expect(() => renderNotification('outcome', 'fr', { reference: NARRATIVE })).toThrow(/reference/)
    expect(() =>
      renderNotification('new_task', 'fr', { reference: 'PL-1', taskKind: NARRATIVE }),
    ).toThrow(/taskKind/)
    expect(() =>
      renderNotification('outcome', 'fr', { reference: 'PL-1', link: 'javascript:alert(1)' }),
    ).toThrow(/link/)
  })
})

describe('the notification sweeper', () => {
  let sweepDb: TestDatabase
  beforeAll(async () => {
    sweepDb = await createTestDatabase()
  })
  afterAll(() => sweepDb?.drop())

  it('delivers every due pending notification, once', async () => {
    const items = [request(), request({ template: 'outcome', locale: 'en' }), request()]
    await sweepDb.db.transaction().execute((trx) => queueNotifications(trx, items))
    const sweepDeps: NotificationDeps = {
      db: sweepDb.db,
      transport: transportTo(sink.smtpUrl),
      from: FROM,
      // Rows are due from their creation; a clock a second ahead removes any clock skew.
      now: () => new Date(Date.now() + 1000),
    }

    expect(await deliverDueNotifications(sweepDeps)).toEqual({ sent: 3, failed: 0 })
    for (const item of items) expect(received(item.dedupeKey)).toHaveLength(1)
    expect(await deliverDueNotifications(sweepDeps)).toEqual({ sent: 0, failed: 0 })

    const { deliverNotification } = createNotificationActivities(sweepDeps)
    expect(await deliverNotification(items[0]!.dedupeKey)).toBe('already_sent')
  })

  it('leaves alone a row whose retry is not yet due, and honours its limit', async () => {
    const down = request()
    const later = [request(), request()]
    await sweepDb.db.transaction().execute((trx) => queueNotifications(trx, [down, ...later]))
    const now = () => new Date(Date.now() + 1000)
    const failing = createNotificationActivities({
      db: sweepDb.db,
      transport: transportTo('smtp://127.0.0.1:1'),
      from: FROM,
      now,
    })
    await expect(failing.deliverNotification(down.dedupeKey)).rejects.toThrow()

    const sweepDeps = { db: sweepDb.db, transport: transportTo(sink.smtpUrl), from: FROM, now }
    expect(await deliverDueNotifications(sweepDeps, 1)).toEqual({ sent: 1, failed: 0 })
    expect(await deliverDueNotifications(sweepDeps)).toEqual({ sent: 1, failed: 0 })
    expect(received(down.dedupeKey)).toHaveLength(0)
    const row = await sweepDb.db
      .selectFrom('notificationOutbox')
      .select(['status', 'attempts'])
      .where('dedupeKey', '=', down.dedupeKey)
      .executeTakeFirstOrThrow()
    expect(row).toEqual({ status: 'pending', attempts: 1 })
  })
})
