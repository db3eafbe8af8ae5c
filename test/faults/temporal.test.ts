import { randomUUID } from 'node:crypto'
import path from 'node:path'
import type { Client } from '@temporalio/client'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { startDevServer, type DevServer } from '../../activities/infra/temporal-server'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { connectTestClient, eventually, mailbox } from '../helpers/temporal'
import {
  caseWithContact,
  driveToClosure,
  fetchWithin,
  newTaskQueue,
  openCase,
  processEnv,
  Processes,
} from './harness'
import { checkInvariants } from './invariants'

/**
 * The Temporal dev server, started by the test so that it can stop it (SIGTERM to its process
 * id) and start it again on the same port: with its SQLite file (nothing may be lost), after a
 * longer outage, and without its file (the negative control: the loss must be detected).
 */
const log = createLogger('silent', false)
let tdb: TestDatabase | undefined
let client: Client | undefined
let processes: Processes | undefined
const servers: DevServer[] = []

afterEach(async (context) => {
  // A failed test shows what its processes said.
  if (context.task.result?.state === 'fail') console.error(processes?.logs().slice(-8000))
  const crashes = processes?.crashes.slice()
  await processes?.killAll()
  await client?.connection.close()
  await Promise.all(servers.splice(0).map((s) => s.stop()))
  await tdb?.drop()
  tdb = client = processes = undefined
  Processes.expectNoCrash(crashes)
})

async function startServer(dir: string, port = 0): Promise<DevServer> {
  const server = await startDevServer({
    binary: inject('temporalBinary'),
    dir,
    host: '127.0.0.1',
    port,
    namespace: inject('namespace'),
    log,
  })
  servers.push(server)
  return server
}

async function stopServer(server: DevServer): Promise<void> {
  await server.stop()
  servers.splice(servers.indexOf(server), 1)
}

async function setUp(name: string) {
  expect(inject('temporalBinary'), 'a temporal binary was resolved by the setup').not.toBe('')
  const dir = path.join(inject('tmpRoot'), `fault-temporal-${randomUUID()}`)
  const server = await startServer(dir)
  tdb = await createTestDatabase()
  await seedForCases(tdb.db)
  client = await connectTestClient(server.address)
  const taskQueue = newTaskQueue(name)
  processes = new Processes(
    processEnv({ databaseUrl: tdb.url, temporalAddress: server.address, taskQueue }),
  )
  await processes.worker()
  const api = await processes.api()
  return { dir, server, tdb, client, taskQueue, api: api.url }
}

const completions = async (db: TestDatabase['db']) =>
  (await db.selectFrom('caseEvents').select('id').where('type', '=', 'task.completed').execute())
    .length

/** What the API answers while Temporal is down: 503 with a Retry-After, within the deadline. */
async function expectUnavailable(api: string) {
  const ready = await fetchWithin(`${api}/api/health/ready`)
  expect(ready.status).toBe(503)
  expect(ready.headers.get('retry-after')).toMatch(/^\d+$/)
  const submit = await fetchWithin(`${api}/api/public/grievances`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({
      communeCode: 'ML-2-KATI-KATI',
      narrative: 'Je n’ai pas reçu le paiement de ce trimestre.',
      anonymous: true,
    }),
  })
  expect(submit.status, await submit.clone().text()).toBe(503)
  expect(submit.headers.get('retry-after')).toMatch(/^\d+$/)
  expect(((await submit.json()) as { error: { code: string } }).error.code).toBe(
    'SERVICE_UNAVAILABLE',
  )
}

async function settledInvariants(
  db: TestDatabase['db'],
  c: Client,
  taskQueue: string,
  caseIds: string[],
) {
  await eventually(
    async () =>
      (
        await db
          .selectFrom('notificationOutbox')
          .select('id')
          .where('status', 'in', ['pending', 'sending'])
          .execute()
      ).length === 0
        ? true
        : undefined,
    { timeoutMs: 90_000, what: 'every notification settled' },
  )
  return checkInvariants({ db, client: c, taskQueue, caseIds, mailbox: () => mailbox() })
}

describe('the Temporal server', () => {
  it('restarted under load on the same database file: all 12 cases complete, exactly 12 rows, 48 notifications, the API answers 503 meanwhile, no violation', async () => {
    const { dir, server, tdb, client, taskQueue, api } = await setUp('restart')
    const inputs = Array.from({ length: 12 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))
    await eventually(async () => ((await completions(tdb.db)) >= 6 ? true : undefined), {
      timeoutMs: 90_000,
      what: 'half of the triage tasks completed',
    })
    const port = Number(server.address.split(':')[1])
    await stopServer(server)
    await expectUnavailable(api)
    await startServer(dir, port)
    await closing

    expect(await tdb.db.selectFrom('cases').select('id').execute()).toHaveLength(12)
    expect(
      await settledInvariants(
        tdb.db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
    expect(await tdb.db.selectFrom('notificationOutbox').select('id').execute()).toHaveLength(48)
  })

  it('down for 30 s: the API answers 503 with Retry-After throughout (never 500, never a hang), then all 6 cases complete, exactly 6 rows, no violation', async () => {
    const { dir, server, tdb, client, taskQueue, api } = await setUp('outage')
    const inputs = Array.from({ length: 6 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    await eventually(
      async () =>
        (await tdb.db.selectFrom('tasks').select('id').execute()).length === 6 ? true : undefined,
      { what: '6 triage tasks projected' },
    )
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))
    const port = Number(server.address.split(':')[1])
    await stopServer(server)
    // The fault is the outage's length: probe the API through 30 s of it.
    const downSince = Date.now()
    let probes = 0
    while (Date.now() - downSince < 30_000) {
      await expectUnavailable(api)
      probes += 1
    }
    expect(probes).toBeGreaterThan(1)
    await startServer(dir, port)
    await closing

    expect(await tdb.db.selectFrom('cases').select('status').execute()).toEqual(
      inputs.map(() => ({ status: 'closed' })),
    )
    expect(
      await settledInvariants(
        tdb.db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
  })

  it('negative control — restarted WITHOUT its database file: the invariant checker reports each of the 6 lost workflows (so the suite detects loss)', async () => {
    const { server, tdb, client, taskQueue } = await setUp('lost')
    const inputs = Array.from({ length: 6 }, () => caseWithContact())
    await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    await eventually(
      async () =>
        (await tdb.db.selectFrom('tasks').select('id').execute()).length === 6 ? true : undefined,
      { what: '6 triage tasks projected' },
    )
    const port = Number(server.address.split(':')[1])
    await stopServer(server)
    // A fresh directory: the server comes back empty, as one started without its SQLite file.
    await startServer(path.join(inject('tmpRoot'), `fault-temporal-empty-${randomUUID()}`), port)

    const violations = await checkInvariants({
      db: tdb.db,
      client,
      taskQueue,
      caseIds: inputs.map((i) => i.caseId),
      mailbox: () => mailbox(),
    })
    const lost = violations.filter((v) => v.includes('row without workflow'))
    expect(lost.sort()).toEqual(
      inputs.map((i) => `case ${i.caseId}: row without workflow case-${i.caseId}`).sort(),
    )
  })
})
