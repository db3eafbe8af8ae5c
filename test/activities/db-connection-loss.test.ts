import { setTimeout as delay } from 'node:timers/promises'
import type { Client } from '@temporalio/client'
import { Hono } from 'hono'
import { sql } from 'kysely'
import postgres from 'postgres'
import { afterEach, describe, expect, inject, it } from 'vitest'
import { createLogger } from '../../activities/infra/logger'
import { onError } from '../../api/errors'
import { createTestDatabase, type TestDatabase } from '../helpers/db'
import { seedForCases } from '../helpers/fixtures'
import { connectTestClient, eventually } from '../helpers/temporal'
import {
  caseWithContact,
  driveToClosure,
  fetchWithin,
  newTaskQueue,
  openCase,
  processEnv,
  Processes,
} from '../faults/harness'

/**
 * A PostgreSQL restart or a managed database's failover ends every connection of the app. The
 * API and the worker must take that as an outage (503 with Retry-After, activities retried), never
 * as a crash nor as a 500.
 */
const log = createLogger('silent', false)
let tdb: TestDatabase | undefined
let processes: Processes | undefined
let client: Client | undefined

afterEach(async (context) => {
  if (context.task.result?.state === 'fail') console.error(processes?.logs().slice(-8000))
  await processes?.killAll()
  await client?.connection.close()
  await tdb?.drop()
  tdb = processes = client = undefined
})

/** Ends, from a connection of its own, every backend whose application_name is `name`. */
async function terminateBackends(name: string): Promise<number> {
  const admin = postgres(inject('databaseUrl'), { max: 1, onnotice: () => {} })
  try {
    // Two statements: in one, the planner may call pg_terminate_backend before the filter.
    const targets = await admin<{ pid: number }[]>`
      select pid from pg_stat_activity where application_name = ${name}`
    const killed = await admin<{ ok: boolean }[]>`
      select pg_terminate_backend(pid) as ok from unnest(${targets.map((t) => t.pid)}::int[]) pid`
    return killed.filter((k) => k.ok).length
  } finally {
    await admin.end({ timeout: 5 })
  }
}

describe('a database connection lost', () => {
  it('inside a transaction (its ROLLBACK fails too) answers 503 with Retry-After, not a 500, and the pool recovers', async () => {
    tdb = await createTestDatabase()
    const db = tdb.db
    const app = new Hono()
    app.onError(onError(log))
    app.post('/write', async (c) => {
      await db.transaction().execute(async (trx) => {
        await sql`select 1`.execute(trx)
        // What a failover does to this connection, at this moment.
        await sql`select pg_terminate_backend(pg_backend_pid())`.execute(trx)
      })
      return c.json({ ok: true })
    })
    const response = await app.request('/write', { method: 'POST' })
    expect(response.status, await response.clone().text()).toBe(503)
    expect(response.headers.get('retry-after')).toMatch(/^\d+$/)
    expect(await response.json()).toMatchObject({ error: { code: 'SERVICE_UNAVAILABLE' } })
    // The next transaction gets a live connection.
    const rows = await db
      .transaction()
      .execute(async (trx) => (await sql<{ one: number }>`select 1 as one`.execute(trx)).rows)
    expect(rows).toEqual([{ one: 1 }])
  })

  it('terminated 3 times while cases are worked: the worker and the API keep running (same pids), health answers 200 or 503 only, every case completes', async () => {
    tdb = await createTestDatabase()
    await seedForCases(tdb.db)
    const db = tdb.db
    // The processes' connections carry a name of their own, so that only theirs are ended.
    const appName = `rsu-conn-loss-${process.pid}`
    const url = new URL(tdb.url)
    url.searchParams.set('application_name', appName)
    const taskQueue = newTaskQueue('conn-loss')
    processes = new Processes(processEnv({ databaseUrl: url.toString(), taskQueue }))
    const worker = await processes.worker()
    const { process: apiProcess, url: api } = await processes.api()
    const pids = [worker.child.pid, apiProcess.child.pid]
    // A process that exits by itself fails the test at once, with its last words.
    const exited = new Promise<never>((_, reject) => {
      for (const p of [worker, apiProcess])
        p.child.once('exit', (code, signal) =>
          reject(
            new Error(`pid ${p.child.pid} exited (${code ?? signal}): ${p.stderr().slice(-600)}`),
          ),
        )
    })
    exited.catch(() => undefined) // the test's own kill at the end is not a failure

    client = await connectTestClient()
    const inputs = Array.from({ length: 6 }, () => caseWithContact())
    const handles = await Promise.all(inputs.map((i) => openCase(client!, taskQueue, i)))
    const closing = Promise.all(handles.map((h) => driveToClosure(h, 240_000)))

    // Health is asked all along: one request at a time, each answered or failed.
    const statuses = new Map<number, number>()
    let probing = true
    const probe = (async () => {
      while (probing) {
        // 0: no answer at all (the process is gone or hangs).
        const status = await fetchWithin(`${api}/api/health/ready`, { timeoutMs: 10_000 }).then(
          async (r) => (await r.body?.cancel(), r.status),
          () => 0,
        )
        statuses.set(status, (statuses.get(status) ?? 0) + 1)
        await delay(100) // a steady trickle of requests, not a flood
      }
    })()

    const completions = async () =>
      (
        await db
          .selectFrom('caseEvents')
          .select('id')
          .where('type', '=', 'task.completed')
          .execute()
      ).length
    for (const after of [2, 5, 8]) {
      await Promise.race([
        exited,
        eventually(async () => ((await completions()) >= after ? true : undefined), {
          timeoutMs: 120_000,
          what: `${after} completions`,
        }),
      ])
      // Our processes reconnect on their next statement: terminate once one of theirs is open.
      const killed = await eventually(
        async () => {
          const n = await terminateBackends(appName)
          return n > 0 ? n : undefined
        },
        { timeoutMs: 30_000, what: 'a connection of ours to terminate' },
      )
      expect(killed).toBeGreaterThan(0)
    }
    await Promise.race([exited, closing])
    probing = false
    await probe

    expect([worker.child.pid, apiProcess.child.pid]).toEqual(pids)
    expect([...statuses.keys()].filter((s) => s !== 200 && s !== 503)).toEqual([])
    expect((await fetchWithin(`${api}/api/health/ready`)).status).toBe(200)
    expect(await db.selectFrom('cases').select('id').execute()).toHaveLength(6)
  }, 400_000)
})
