import { randomUUID } from 'node:crypto'
import { setTimeout as delay } from 'node:timers/promises'
import path from 'node:path'
import type { Client } from '@temporalio/client'
import { sql } from 'kysely'
import postgres from 'postgres'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createDb, type Db } from '../../activities/db/db'
import { createApiToken } from '../../api/auth/sessions'
import { caseWorkflowId } from '../../workflows/messages'
import { migrateToLatest } from '../../activities/db/migrate'
import { createLogger } from '../../activities/infra/logger'
import { startDatabase, type DatabaseServer } from '../../activities/infra/postgres'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases, userId } from '../helpers/fixtures'
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
import { TcpProxy } from './tcp-proxy'

/**
 * PostgreSQL behind a TCP proxy the test controls (the worker and the API reach it only through
 * the proxy): its connections terminated, the server stopped and started again, and a server
 * that stops answering.
 */
const log = createLogger('silent', false)
let tdb: TestDatabase | undefined
let ownDb: Db | undefined
let ownServer: DatabaseServer | undefined
let client: Client | undefined
let processes: Processes | undefined
let proxy: TcpProxy | undefined

afterEach(async (context) => {
  // A failed test shows what its processes said.
  if (context.task.result?.state === 'fail') console.error(processes?.logs().slice(-8000))
  const crashes = processes?.crashes.slice()
  if (context.task.result?.state === 'fail' && tdb) {
    const events = await sql<{ type: string; n: string }>`
      select type, count(*) as n from case_events group by type`.execute(tdb.db)
    const outbox = await sql<{ status: string; n: string }>`
      select status, count(*) as n from notification_outbox group by status`.execute(tdb.db)
    console.error(JSON.stringify({ events: events.rows, outbox: outbox.rows }))
  }
  await processes?.killAll()
  await client?.connection.close()
  await ownDb?.destroy()
  await proxy?.stop()
  await ownServer?.stop()
  await tdb?.drop()
  tdb = ownDb = ownServer = client = processes = proxy = undefined
  Processes.expectNoCrash(crashes)
})

async function start(databaseUrl: string, name: string) {
  const url = new URL(databaseUrl)
  proxy = await new TcpProxy({ host: url.hostname, port: Number(url.port) }).start()
  client = await connectTestClient()
  const taskQueue = newTaskQueue(name)
  processes = new Processes(processEnv({ databaseUrl: proxy.url(databaseUrl), taskQueue }))
  // Not restarted: a worker that dies of a dropped connection fails the test.
  const worker = await processes.worker()
  const api = await processes.api()
  return { proxy, client, taskQueue, api: api.url, processes, worker, apiProcess: api.process }
}

const completions = async (db: Db) =>
  (await db.selectFrom('caseEvents').select('id').where('type', '=', 'task.completed').execute())
    .length

/** A stage of a test that must end within `ms`: a stall fails with its name, not a timeout. */
async function step<T>(name: string, work: Promise<T>, ms = 240_000): Promise<T> {
  let timer: NodeJS.Timeout | undefined
  const stalled = new Promise<never>((_, reject) => {
    timer = setTimeout(() => reject(new Error(`stalled: ${name} (${ms} ms)`)), ms)
  })
  try {
    return await Promise.race([work, stalled])
  } finally {
    clearTimeout(timer)
  }
}

/** `probe` retried through the outage: a failed read of the test's own is not the result. */
const through =
  <T>(probe: () => Promise<T | undefined>) =>
  () =>
    probe().catch(() => undefined)

/** While PostgreSQL is unreachable the API answers 503 with a Retry-After, within the deadline. */
async function expectUnavailable(api: string) {
  const ready = await fetchWithin(`${api}/api/health/ready`)
  expect(ready.status).toBe(503)
  expect(ready.headers.get('retry-after')).toMatch(/^\d+$/)
  const track = await fetchWithin(`${api}/api/public/track`, {
    method: 'POST',
    headers: { 'content-type': 'application/json' },
    body: JSON.stringify({ reference: 'PL-2026-ABCDEF', pin: '123456', locale: 'fr' }),
  })
  expect(track.status, await track.clone().text()).toBe(503)
  expect(track.headers.get('retry-after')).toMatch(/^\d+$/)
}

async function settledInvariants(db: Db, c: Client, taskQueue: string, caseIds: string[]) {
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
    { timeoutMs: 120_000, what: 'every notification settled' },
  )
  return checkInvariants({ db, client: c, taskQueue, caseIds, mailbox: () => mailbox() })
}

/**
 * Staff intakes (`POST /api/cases`), two at a time, until `stop()`: the ones answered 201 are the
 * accepted ones, each of which must end with its case row and its workflow. A refusal (503) or a
 * request lost in the outage is not an acceptance.
 */
function intakeLoad(api: string, token: string) {
  const accepted: string[] = []
  const refused = new Map<number, number>()
  let running = true
  let n = 0
  const one = async () => {
    while (running) {
      const key = `load-${randomUUID()}`
      const res = await fetchWithin(`${api}/api/cases`, {
        method: 'POST',
        timeoutMs: 15_000,
        headers: {
          authorization: `Bearer ${token}`,
          'content-type': 'application/json',
          'idempotency-key': key,
        },
        body: JSON.stringify({
          communeCode: 'ML-2-KATI-KATI',
          channel: 'hotline',
          narrative: `Plainte de charge ${++n}: paiement non reçu ce cycle.`,
          anonymous: true,
        }),
      }).catch(() => undefined)
      if (res?.status === 201) accepted.push(((await res.json()) as { caseId: string }).caseId)
      else {
        await res?.body?.cancel()
        refused.set(res?.status ?? 0, (refused.get(res?.status ?? 0) ?? 0) + 1)
        await delay(200) // a client backs off after a refusal
      }
    }
  }
  const loops = [one(), one()]
  return {
    accepted,
    refused,
    async stop() {
      running = false
      await Promise.all(loops)
    },
  }
}

/** `/api/health/live` asked every 200 ms until `stop()`: the longest time without an answer. */
function liveness(api: string) {
  let running = true
  let lastAnswer = Date.now()
  let longestGapMs = 0
  const loop = (async () => {
    while (running) {
      const ok = await fetchWithin(`${api}/api/health/live`, { timeoutMs: 2_000 }).then(
        async (r) => (await r.body?.cancel(), r.status === 200),
        () => false,
      )
      const now = Date.now()
      if (ok) {
        longestGapMs = Math.max(longestGapMs, now - lastAnswer)
        lastAnswer = now
      }
      await delay(200)
    }
  })()
  return {
    async stop() {
      running = false
      await loop
      return Math.max(longestGapMs, Date.now() - lastAnswer)
    },
  }
}

describe('PostgreSQL', () => {
  it('connections terminated (by the server, then cut on the network) under load: all 8 cases complete, exactly 8 rows, 32 notifications, no violation', async () => {
    tdb = await createTestDatabase()
    await seedForCases(tdb.db)
    const { proxy, client, taskQueue } = await start(tdb.url, 'pg-terminate')
    const inputs = Array.from({ length: 8 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))
    const db = tdb.db
    for (const after of [3, 9]) {
      await eventually(
        through(async () => ((await completions(db)) >= after ? true : undefined)),
        {
          timeoutMs: 120_000,
          what: `${after} completions`,
        },
      )
      // The server ends the backends of the worker's and the API's connections (those through
      // the proxy), from a connection of its own.
      const ports = proxy.upstreamPorts()
      const database = new URL(tdb.url).pathname.slice(1)
      const admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} })
      try {
        // Two statements: in one, the planner may call pg_terminate_backend before the filter.
        const targets = await admin<{ pid: number }[]>`
          select pid from pg_stat_activity
          where datname = ${database} and client_port = any(${ports}::int[])
            and pid <> pg_backend_pid()`
        expect(targets.length).toBeGreaterThan(0)
        const killed = await step(
          'backends terminated',
          admin<{ ok: boolean }[]>`
            select pg_terminate_backend(pid) as ok from unnest(${targets.map((t) => t.pid)}::int[]) pid`,
          30_000,
        )
        expect(killed.some((k) => k.ok)).toBe(true)
      } finally {
        await admin.end({ timeout: 5 })
      }
    }
    proxy.drop()
    await step('all 8 cases driven to closure', closing)

    expect(await db.selectFrom('cases').select('id').execute()).toHaveLength(8)
    expect(
      await step(
        'the invariants checked',
        settledInvariants(
          db,
          client,
          taskQueue,
          inputs.map((i) => i.caseId),
        ),
      ),
    ).toEqual([])
    expect(await db.selectFrom('notificationOutbox').select('id').execute()).toHaveLength(32)
  }, 600_000)

  it('stopped and started again: the API answers 503 with Retry-After meanwhile (never 500, never a hang), then all 6 cases complete, exactly 6 rows, 24 notifications, no violation', async () => {
    const dir = path.join(inject('tmpRoot'), `fault-pg-${randomUUID()}`)
    ownServer = await startDatabase({ dir, log })
    const direct = createDb(ownServer.url, { max: 2 })
    await migrateToLatest(direct)
    await seedForCases(direct)
    await direct.destroy()
    const { proxy, client, taskQueue, api } = await start(ownServer.url, 'pg-restart')
    // The test reads through the proxy too: it follows the server to its new port.
    ownDb = createDb(proxy.url(ownServer.url), { max: 2 })
    const db = ownDb
    const inputs = Array.from({ length: 6 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))
    await eventually(
      through(async () => ((await completions(db)) >= 3 ? true : undefined)),
      {
        timeoutMs: 120_000,
        what: '3 completions',
      },
    )
    await ownServer.stop()
    proxy.drop()
    await expectUnavailable(api)
    // Same data directory; the embedded server picks a new port, the proxy follows it.
    ownServer = await startDatabase({ dir, log })
    proxy.retarget(Number(new URL(ownServer.url).port))
    await closing

    expect(await db.selectFrom('cases').select('id').execute()).toHaveLength(6)
    expect(
      await settledInvariants(
        db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
    expect(await db.selectFrom('notificationOutbox').select('id').execute()).toHaveLength(24)
  })

  it('that stops answering (connections held, nothing forwarded): the API answers 503 within 20 s (never a hang), then all 5 cases complete, exactly 5 rows, no violation', async () => {
    tdb = await createTestDatabase()
    await seedForCases(tdb.db)
    const { proxy, client, taskQueue, api } = await start(tdb.url, 'pg-silent')
    const inputs = Array.from({ length: 5 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client, taskQueue, i)))
    const db = tdb.db
    await eventually(
      async () =>
        (await db.selectFrom('tasks').select('id').execute()).length === 5 ? true : undefined,
      { what: '5 triage tasks projected' },
    )
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))
    proxy.silent()
    await expectUnavailable(api)
    proxy.pass()
    await closing

    expect(await db.selectFrom('cases').select('id').execute()).toHaveLength(5)
    expect(
      await settledInvariants(
        db,
        client,
        taskQueue,
        inputs.map((i) => i.caseId),
      ),
    ).toEqual([])
  })

  it('connections terminated five times in a minute, then the server restarted, under intake load: the API and the worker keep their pids, /api/health/live never silent for 5 s, every accepted intake has its case row and workflow', async () => {
    const dir = path.join(inject('tmpRoot'), `fault-pg-five-${randomUUID()}`)
    ownServer = await startDatabase({ dir, log })
    const direct = createDb(ownServer.url, { max: 2 })
    await migrateToLatest(direct)
    await seedForCases(direct)
    const { token } = await createApiToken(direct, {
      name: 'fault load',
      userId: await userId(direct, 'agent.kati.1'),
    })
    await direct.destroy()
    const { proxy, client, api, worker, apiProcess } = await start(ownServer.url, 'pg-five')
    ownDb = createDb(proxy.url(ownServer.url), { max: 2 })
    const db = ownDb
    const pids = [worker.child.pid, apiProcess.child.pid]
    const live = liveness(api)
    const load = intakeLoad(api, token)

    const started = Date.now()
    for (let round = 1; round <= 5; round++) {
      // Under load: more intakes accepted since the last round.
      const before = load.accepted.length
      await eventually(async () => (load.accepted.length > before ? true : undefined), {
        timeoutMs: 60_000,
        what: `an intake accepted before termination ${round}`,
      })
      const admin = postgres(ownServer.url, { max: 1, onnotice: () => {} })
      try {
        const ports = proxy.upstreamPorts()
        const targets = await admin<{ pid: number }[]>`
          select pid from pg_stat_activity
          where client_port = any(${ports}::int[]) and pid <> pg_backend_pid()`
        await admin`select pg_terminate_backend(pid) from unnest(${targets.map((t) => t.pid)}::int[]) pid`
      } finally {
        await admin.end({ timeout: 5 })
      }
    }
    expect(Date.now() - started, 'five terminations within a minute').toBeLessThan(60_000)

    // Then the server itself goes away and comes back (same data, a new port), still under load.
    const before = load.accepted.length
    await ownServer.stop()
    proxy.drop()
    ownServer = await startDatabase({ dir, log })
    proxy.retarget(Number(new URL(ownServer.url).port))
    await eventually(async () => (load.accepted.length > before + 3 ? true : undefined), {
      timeoutMs: 120_000,
      what: 'intakes accepted again after the restart',
    })
    await load.stop()
    const longestSilenceMs = await live.stop()

    expect(processes!.crashes).toEqual([])
    expect([worker.child.pid, apiProcess.child.pid]).toEqual(pids)
    expect([worker.child.exitCode, apiProcess.child.exitCode]).toEqual([null, null])
    expect(longestSilenceMs, '/api/health/live silent').toBeLessThanOrEqual(5_000)
    expect(load.accepted.length).toBeGreaterThan(5)
    // Every accepted intake: its row in PostgreSQL and its workflow in Temporal.
    const ids = [...new Set(load.accepted)]
    await eventually(
      async () => {
        const rows = await db.selectFrom('cases').select('id').where('id', 'in', ids).execute()
        return rows.length === ids.length ? true : undefined
      },
      { timeoutMs: 120_000, what: `the ${ids.length} accepted cases projected` },
    )
    for (const id of ids) {
      const described = await client.workflow.getHandle(caseWorkflowId(id)).describe()
      expect(described.status.name, id).toBe('RUNNING')
    }
    console.info(
      `accepted ${ids.length} intakes; refused ${JSON.stringify(Object.fromEntries(load.refused))}; longest liveness gap ${longestSilenceMs} ms`,
    )
  }, 400_000)
})
