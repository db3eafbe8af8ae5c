import { randomBytes } from 'node:crypto'
import { readdir, readFile } from 'node:fs/promises'
import path from 'node:path'
import { Client, Connection } from '@temporalio/client'
import type { Payload } from '@temporalio/common'
import { temporal } from '@temporalio/proto'
import { sql } from 'kysely'
import { afterAll, afterEach, beforeAll, describe, expect, inject, it } from 'vitest'
import { reportsRoutes } from '../../api/routes/reports'
import {
  addNoteUpdate,
  caseWorkflowId,
  completeTaskUpdate,
  grievanceViewQuery,
  type Actor,
} from '../../workflows/messages'
import { appSignedInByHeader } from '../helpers/api'
import { testCipher, testCodec } from '../helpers/codec'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { actor, seedForCases } from '../helpers/fixtures'
import { connectTestClient, eventually, mailbox } from '../helpers/temporal'
import { fetchWithin, newTaskQueue, processEnv, Processes } from './harness'

/**
 * Canary strings planted in a sensitive case (narrative, contact email and phone, a note, the
 * findings) through the real API and worker processes, then searched
 * for everywhere they must not be: PostgreSQL in plaintext, Temporal's raw history and its
 * SQLite file, the processes' logs, the emails and the exports. Each search has a positive
 * control showing that it would find the canary (decoded through the codec, decrypted through
 * the cipher, or in a place where it belongs).
 */
const tag = randomBytes(4).toString('hex')
const canaries = {
  narrative: `canary-narr-${tag}`,
  email: `canary-${tag}@exemple.ml`,
  phone: `+223 7${String(parseInt(tag, 16) % 10_000_000).padStart(7, '0')}`,
  note: `canary-note-${tag}`,
  findings: `canary-find-${tag}`,
}
const all = Object.entries(canaries)
const found = (haystack: string | Buffer) => {
  const text = Buffer.isBuffer(haystack) ? haystack.toString('latin1') : haystack
  return all.filter(([, c]) => text.toLowerCase().includes(c.toLowerCase())).map(([k]) => k)
}

let tdb: TestDatabase
let client: Client
let processes: Processes
let caseId: string
const taskQueue = newTaskQueue('canary')

beforeAll(async () => {
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient()
  processes = new Processes({
    ...processEnv({ databaseUrl: tdb.url, taskQueue }),
    // The most talkative level: whatever any log line carries, it is searched.
    LOG_LEVEL: 'trace',
  })
  await processes.worker()
  const { url: api } = await processes.api()

  // Planted through the public API, as a complainant would.
  const submitted = await fetchWithin(`${api}/api/public/grievances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      communeCode: 'ML-2-KATI-KATI',
      category: 'sea_gbv',
      narrative: `Un agent a exigé des faveurs en échange de l'inscription. ${canaries.narrative}`,
      contact: { email: canaries.email, phone: canaries.phone },
      locale: 'fr',
    }),
  })
  expect(submitted.status, await submitted.clone().text()).toBe(201)
  const row = await eventually(() =>
    tdb.db.selectFrom('cases').select(['id', 'reference']).executeTakeFirst(),
  )
  caseId = row.id
  const handle = client.workflow.getHandle(caseWorkflowId(caseId))
  const focal = await actor(tdb.db, 'point-focal.koulikoro', 'case_worker', true)
  const regional = await actor(tdb.db, 'superviseur.region.koulikoro', 'supervisor', true)
  const complete = async (kind: string, by: Actor, data: unknown) => {
    const task = await eventually(async () =>
      (await handle.query(grievanceViewQuery).catch(() => undefined))?.tasks.find(
        (t) => t.kind === kind && t.status !== 'completed' && t.status !== 'cancelled',
      ),
    )
    await handle.executeUpdate(completeTaskUpdate, { args: [{ taskId: task.id, actor: by, data }] })
  }
  await complete('triage', focal, { category: 'sea_gbv', sensitive: true, priority: 'urgent' })
  await handle.executeUpdate(addNoteUpdate, {
    args: [{ actor: focal, text: `Rappeler après 18 h. ${canaries.note}` }],
  })
  await complete('investigation', focal, {
    findings: `Témoignage recueilli, mesures de protection prises. ${canaries.findings}`,
    proposedResolution: 'upheld',
    changesEligibilityOrPayment: false,
  })
  await complete('approval', regional, { decision: 'approve' })
  await handle.result()
  // Every notification settled (sent or failed) before the mail is searched.
  await eventually(async () =>
    (
      await tdb.db
        .selectFrom('notificationOutbox')
        .select('id')
        .where('status', 'in', ['pending', 'sending'])
        .execute()
    ).length === 0
      ? true
      : undefined,
  )
}, 240_000)

// A process that exited by itself fails the test during which it did.
afterEach(() => Processes.expectNoCrash(processes?.crashes.splice(0)))

afterAll(async () => {
  await processes?.killAll()
  await client?.connection.close()
  await tdb?.drop()
})

describe('canary strings of a sensitive case', () => {
  it('are in no PostgreSQL table in plaintext (every row of every table as text); decrypted, the contact is there', async () => {
    const tables = await sql<{ name: string }>`
      select table_name as name from information_schema.tables
      where table_schema = 'public' and table_type = 'BASE TABLE'`.execute(tdb.db)
    expect(tables.rows.length).toBeGreaterThan(10)
    let dump = ''
    for (const { name } of tables.rows) {
      const rows = await sql<{
        row: string
      }>`select t::text as row from ${sql.table(name)} t`.execute(tdb.db)
      dump += rows.rows.map((r) => r.row).join('\n')
    }
    expect(dump).toContain(caseId)
    expect(found(dump)).toEqual([])
    // Positive control: the encrypted contact decrypts to the canaries.
    const contact = await tdb.db
      .selectFrom('complainantContacts')
      .selectAll()
      .where('caseId', '=', caseId)
      .executeTakeFirstOrThrow()
    expect(testCipher.decrypt(contact.email!)).toBe(canaries.email)
    expect(testCipher.decrypt(contact.phone!)).toBe(canaries.phone)
  })

  it('are in no raw Temporal history (fetched without the codec) nor in the SQLite file; decoded through the codec, they are', async () => {
    const raw = new Client({
      connection: await Connection.connect({ address: inject('temporalAddress') }),
      namespace: inject('namespace'),
    })
    try {
      const history = await raw.workflow.getHandle(caseWorkflowId(caseId)).fetchHistory()
      const bytes = Buffer.from(temporal.api.history.v1.History.encode(history).finish())
      expect(bytes.length).toBeGreaterThan(1000)
      expect(found(bytes)).toEqual([])
      // Positive control: every payload of the history decoded through the codec.
      const payloads: Payload[] = []
      const collect = (value: unknown): void => {
        if (!value || typeof value !== 'object') return
        if ('metadata' in value && 'data' in value) payloads.push(value as Payload)
        else for (const v of Object.values(value)) collect(v)
      }
      collect(history)
      const decoded = await testCodec.decode(payloads)
      const plain = Buffer.concat(decoded.map((p) => Buffer.from(p.data ?? [])))
      expect(found(plain).sort()).toEqual(
        ['narrative', 'email', 'phone', 'note', 'findings'].sort(),
      )
    } finally {
      await raw.connection.close()
    }
    // The dev server's own files (its SQLite database, WAL and log).
    const dir = path.join(inject('tmpRoot'), 'temporal')
    const files = await readdir(dir)
    expect(files).toContain('temporal.db')
    for (const file of files) {
      expect(found(await readFile(path.join(dir, file))), file).toEqual([])
    }
  })

  it('are in no log line of the API and worker processes (logging at trace)', () => {
    const logs = processes.logs()
    expect(logs).toMatch(/API listening/)
    expect(logs).toMatch(/worker running/)
    expect(found(logs)).toEqual([])
  })

  it('are in no email (subject or body); the complainant was written to at the canary address', async () => {
    const sent = (await mailbox()).filter((m) => m.to.includes(canaries.email))
    // Positive control: the acknowledgement and the outcome went to the planted address.
    expect(sent.length).toBeGreaterThanOrEqual(2)
    for (const m of sent) expect(found(`${m.subject}\n${m.text}`)).toEqual([])
    const eml = path.join(inject('tmpRoot'), 'mail')
    for (const file of (await readdir(eml)).filter((f) => f.endsWith('.eml'))) {
      const raw = (await readFile(path.join(eml, file), 'utf8')).split(/\r?\n\r?\n/)
      // The body (after the headers): the recipient header is the only place the address may be.
      expect(found(raw.slice(1).join('\n\n')), file).toEqual([])
    }
  })

  it('are in no export: the cases CSV and the report CSV of a user with the export permission', async () => {
    // A manager with the export permission and clearance: the sensitive case is in the export.
    await sql`update users set can_export = true, sensitive_clearance = true
      where username = 'gestionnaire'`.execute(tdb.db)
    const app = appSignedInByHeader(tdb.db, (api) =>
      api.route('/api', reportsRoutes({ db: tdb.db })),
    )
    for (const url of [
      '/api/exports/cases.csv',
      '/api/reports/cases.csv?groupBy=cercle',
      '/api/reports/cases.csv?groupBy=category',
    ]) {
      const res = await app.request(url, { headers: { 'x-test-user': 'gestionnaire' } })
      expect(res.status, url).toBe(200)
      const csv = await res.text()
      if (url.startsWith('/api/exports')) expect(csv).toContain(caseId)
      expect(found(csv), url).toEqual([])
    }
  })
})
