import { sql } from 'kysely'
import type { Bench } from '../lib/harness'
import { RAW_TASK_QUEUE } from '../lib/harness'
import { drive, type DriveResult } from '../lib/drive'
import { caseWorkflowId } from '../../workflows/messages'
import { grievanceInput } from '../../test/helpers/fixtures'
import { sampleProcess, sampleTree } from '../lib/proc'
import type { IntakeResult } from '../lib/generator'

/** Sizes of one run: quick (`npm run bench`) or full (`--full`). */
export interface Sizes {
  /** Concurrent clients of the closed-loop (maximum rate) measurements. */
  concurrency: number
  intake: number
  /** Seconds of the fixed-rate phases (S1 at 70 %, S3 at 50 %). */
  fixedRateSec: number
  tasks: number
  lifecycles: number
  storm: number
  openCases: number
  /** Stop adding open cases (S2) after this many seconds and measure at the size reached. */
  openCasesBudgetSec: number
  listRows: number
  listSec: number
  /** Households in the re-verification campaign of S7. */
  campaign: number
}

export const QUICK: Sizes = {
  concurrency: 8,
  intake: 100,
  fixedRateSec: 10,
  tasks: 60,
  lifecycles: 15,
  storm: 100,
  openCases: 600,
  openCasesBudgetSec: 60,
  listRows: 100_000,
  listSec: 5,
  campaign: 1_000,
}

/**
 * The sizes where they fit a run of about an hour on 2 shared cores; S4's storm and S2's
 * open cases do not (cases open at a few per second there): BENCHMARKS.md says what was measured.
 */
export const FULL: Sizes = {
  concurrency: 8,
  intake: 300,
  fixedRateSec: 30,
  tasks: 200,
  lifecycles: 50,
  storm: 600,
  openCases: 100_000,
  openCasesBudgetSec: 420,
  listRows: 1_000_000,
  listSec: 10,
  campaign: 10_000,
}

const sleep = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms))

/** Polls `check` until it returns a value, or throws after `timeoutMs` naming `what`. */
export async function waitUntil<T>(
  what: string,
  check: () => Promise<T | undefined | null | false>,
  timeoutMs: number,
  everyMs = 100,
): Promise<T> {
  const deadline = Date.now() + timeoutMs
  for (;;) {
    const value = await check()
    if (value) return value
    if (Date.now() > deadline)
      throw new Error(`timed out after ${timeoutMs} ms waiting for ${what}`)
    await sleep(everyMs)
  }
}

/** How many of these cases have their row in PostgreSQL. */
export async function projectedCount(b: Bench, caseIds: string[]): Promise<number> {
  if (caseIds.length === 0) return 0
  const row = await b.db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('id', '=', sql<string>`any(${caseIds})`)
    .executeTakeFirstOrThrow()
  return Number(row.n)
}

export const ratio = (value: number, baseline: number) =>
  baseline > 0 ? Math.round((value / baseline) * 100) / 100 : 0

/** Raw Temporal: starts per second of a workflow that does nothing, minimal worker. */
export function rawStarts(b: Bench, count: number, concurrency: number, tag: string) {
  return b.gen.run<DriveResult>({
    type: 'temporal-start',
    address: b.stack.temporal.address,
    taskQueue: RAW_TASK_QUEUE,
    workflowType: 'noopWorkflow',
    count,
    concurrency,
    idPrefix: `raw-start-${tag}-${Date.now()}`,
  })
}

/** Raw Temporal: Update round trips per second (one workflow per client lane). */
export function rawUpdates(
  b: Bench,
  count: number,
  concurrency: number,
  tag: string,
  rate?: number,
) {
  return b.gen.run<DriveResult>({
    type: 'temporal-update',
    address: b.stack.temporal.address,
    taskQueue: RAW_TASK_QUEUE,
    count,
    concurrency,
    rate,
    idPrefix: `raw-update-${tag}-${Date.now()}`,
  })
}

/**
 * Staff intake through the API (POST /api/cases with an Idempotency-Key), then waits until every
 * case created has its row in PostgreSQL: the end-to-end rate counts to the last projection.
 */
export async function intakeEndToEnd(
  b: Bench,
  opts: { count: number; concurrency: number; rate?: number; retryEvery?: number; tag: string },
): Promise<{ load: IntakeResult; endToEndPerSec: number; projectedAfterMs: number }> {
  const t0 = Date.now()
  const load = await b.gen.run<IntakeResult>({
    type: 'intake',
    baseUrl: b.apiUrl,
    clients: b.intakeClients,
    count: opts.count,
    concurrency: opts.concurrency,
    rate: opts.rate,
    retryEvery: opts.retryEvery,
    keyPrefix: `bench-${opts.tag}-${t0}`,
  })
  const ids = [...new Set(load.caseIds)]
  await waitUntil(
    'the projection of every case created',
    async () => (await projectedCount(b, ids)) >= ids.length,
    120_000,
    50,
  )
  const elapsed = Date.now() - t0
  return {
    load,
    endToEndPerSec: Math.round((ids.length / (elapsed / 1000)) * 10) / 10,
    projectedAfterMs: elapsed - load.durationMs,
  }
}

/**
 * Opens grievances straight through Temporal (the client with the payload codec, as the API
 * does), without the API: setup for the open-case and timer-storm scenarios. Resolves once every
 * case has its row in PostgreSQL, with the rate measured to that point.
 */
export async function openCasesDirect(
  b: Bench,
  opts: { count: number; concurrency: number; tag: string; category?: string; budgetMs?: number },
): Promise<{ caseIds: string[]; perSec: number; result: DriveResult }> {
  const t0 = Date.now()
  const caseIds: string[] = []
  const communes = b.intakeClients.map((c) => c.communeCode)
  const result = await drive(
    { count: opts.count, concurrency: opts.concurrency, durationMs: opts.budgetMs },
    async (i) => {
      const caseId = `B-${opts.tag}-${i}`
      await b.client.workflow.start('grievanceWorkflow', {
        workflowId: caseWorkflowId(caseId),
        taskQueue: b.taskQueue,
        args: [
          grievanceInput({
            caseId,
            reference: `BENCH-${opts.tag}-${i}`,
            areaCode: communes[i % communes.length]!,
            category: opts.category as never,
            anonymous: true,
          }),
        ],
      })
      caseIds.push(caseId)
    },
  )
  await waitUntil(
    'the projection of the cases opened',
    async () => (await projectedCount(b, caseIds)) >= caseIds.length,
    600_000,
    250,
  )
  const elapsed = (Date.now() - t0) / 1000
  return { caseIds, perSec: Math.round((caseIds.length / elapsed) * 10) / 10, result }
}

/** CPU seconds used so far by each process of the run (PostgreSQL with its backends). */
export async function cpuSnapshot(b: Bench): Promise<Record<string, number>> {
  const out: Record<string, number> = {}
  for (const [name, pid] of Object.entries(b.pids())) {
    const s = name === 'postgres' ? await sampleTree(pid) : await sampleProcess(pid)
    if (s) out[name] = s.cpuSeconds
  }
  return out
}

/** CPU milliseconds per unit of work, by process, between two snapshots. */
export function cpuPer(
  before: Record<string, number>,
  after: Record<string, number>,
  units: number,
): Record<string, number> {
  const out: Record<string, number> = {}
  for (const [name, end] of Object.entries(after)) {
    const used = end - (before[name] ?? end)
    if (used > 0) out[name] = Math.round((used / Math.max(1, units)) * 1000 * 10) / 10
  }
  return out
}

export const showCpu = (per: Record<string, number>) =>
  Object.entries(per)
    .sort((a, b) => b[1] - a[1])
    .map(([k, v]) => `${k} ${v}`)
    .join(', ')
