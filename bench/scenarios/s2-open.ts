import { readdir, stat } from 'node:fs/promises'
import path from 'node:path'
import { sql } from 'kysely'
import type { Bench } from '../lib/harness'
import { sampleProcess, round } from '../lib/proc'
import type { ScenarioContext } from '../lib/report'
import { intakeEndToEnd, openCasesDirect, rawStarts, ratio, type Sizes } from './common'

/** Bytes of Temporal's SQLite files (database and write-ahead log) and of our database. */
export async function storage(b: Bench) {
  const dir = path.join(b.dataDir, 'temporal')
  let temporalBytes = 0
  for (const f of await readdir(dir).catch(() => [] as string[])) {
    if (/\.db(-wal|-shm)?$/.test(f)) temporalBytes += (await stat(path.join(dir, f))).size
  }
  const pg = await sql<{
    size: string
  }>`select pg_database_size(current_database()) as size`.execute(b.db)
  return { temporalBytes, postgresBytes: Number(pg.rows[0]!.size) }
}

const openCount = async (b: Bench) =>
  Number(
    (
      await b.db
        .selectFrom('cases')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('status', '=', 'open')
        .executeTakeFirstOrThrow()
    ).n,
  )

/**
 * S2 open cases: open grievances (each with armed SLA timers: the resolve clock's reminder and
 * escalation) up to the target size, or as many as the time budget allows, then intake again:
 * the rate against S1's on an almost empty system, worker memory along the way, storage per case.
 */
export async function s2Open(
  b: Bench,
  sizes: Sizes,
  ctx: ScenarioContext,
  s1Rate: number | undefined,
  initialStorage: { temporalBytes: number; postgresBytes: number },
) {
  const { concurrency } = sizes
  if (s1Rate === undefined) {
    // S1 did not run: the reference intake rate is measured here, before adding open cases.
    s1Rate = (await intakeEndToEnd(b, { count: sizes.intake, concurrency, tag: 's2empty' }))
      .endToEndPerSec
    ctx.notes.push(`S1 did not run: reference intake measured first, ${s1Rate}/s`)
  }
  const start = await openCount(b)
  const rss0 = (await sampleProcess(b.worker.pid))?.rssMb ?? 0
  const missing = Math.max(0, sizes.openCases - start)
  const t0 = Date.now()
  const memory: { open: number; workerRssMb: number }[] = [
    { open: start, workerRssMb: round(rss0) },
  ]
  let added = 0
  let perSec = 0
  // In slices, each waited for until projected (Temporal accepts starts much faster than the
  // worker opens cases: an unbounded backlog would measure the queue, not open cases), which also
  // follows the worker's memory as cases accumulate.
  const slice = Math.min(250, Math.max(50, Math.round(sizes.openCases / 10)))
  while (added < missing) {
    if (Date.now() - t0 > sizes.openCasesBudgetSec * 1000) break
    let batch: Awaited<ReturnType<typeof openCasesDirect>>
    try {
      batch = await openCasesDirect(b, {
        count: Math.min(slice, missing - added),
        concurrency,
        tag: `s2-${Date.now()}`,
      })
    } catch (error) {
      ctx.notes.push(`adding open cases stopped: ${String(error)}`)
      break
    }
    added += batch.caseIds.length
    perSec = Math.round((added / ((Date.now() - t0) / 1000)) * 10) / 10
    memory.push({
      open: start + added,
      workerRssMb: round((await sampleProcess(b.worker.pid))?.rssMb ?? 0),
    })
  }
  const open = await openCount(b)
  const stored = await storage(b)

  const raw = await rawStarts(b, sizes.intake, concurrency, 's2')
  const again = await intakeEndToEnd(b, { count: sizes.intake, concurrency, tag: 's2intake' })
  const rss1 = (await sampleProcess(b.worker.pid))?.rssMb ?? 0
  const reached = open >= sizes.openCases
  const r = s1Rate ? ratio(again.endToEndPerSec, s1Rate) : 0
  const hours = (sizes.openCases - open) / Math.max(0.1, perSec) / 3600
  const more =
    hours >= 1 ? `${hours.toFixed(1)} more hours` : `${Math.ceil(hours * 60)} more minutes`
  ctx.details.memory = memory
  ctx.details.open = { start, added, open, perSec, target: sizes.openCases }
  ctx.details.storage = { initial: initialStorage, now: stored }
  ctx.details.raw = raw
  ctx.details.intake = { ...again, load: { ...again.load, caseIds: undefined } }
  ctx.figures.push(
    {
      name: `open grievances reached (target ${sizes.openCases})`,
      value: open,
      met: reached ? true : null,
    },
    {
      name: `cases created/s end to end at ${open} open`,
      value: again.endToEndPerSec,
      unit: '/s',
      baseline: { name: 'S1 rate, almost empty system', value: s1Rate ?? 0, unit: '/s' },
      ratio: r,
      target: '≥ 0.90 × empty',
      met: reached ? r >= 0.9 : null,
    },
    {
      name: 'raw Temporal starts/s now',
      value: raw.ratePerSec,
      unit: '/s',
      met: null,
    },
    {
      name: 'worker RSS: before adding / after / after intake',
      value: `${round(rss0)} / ${memory[memory.length - 1]!.workerRssMb} / ${round(rss1)}`,
      unit: 'MB',
      met: null,
    },
    {
      name: 'storage per open case: Temporal (SQLite) / PostgreSQL',
      value: `${round((stored.temporalBytes - initialStorage.temporalBytes) / 1024 / open)} / ${round((stored.postgresBytes - initialStorage.postgresBytes) / 1024 / open)}`,
      unit: 'KiB',
      met: null,
    },
  )
  ctx.notes.push(
    `opened ${added} cases in ${Math.round((Date.now() - t0) / 1000)} s straight through Temporal (${perSec}/s); ${reached ? 'target size reached' : `budget of ${sizes.openCasesBudgetSec} s spent before the target: measured at ${open} open cases, ${more} would be needed at this rate (the ratio target is not claimed)`}`,
    `worker RSS by open cases: ${memory.map((m) => `${m.open}: ${m.workerRssMb} MB`).join(', ')}`,
  )
}
