import { sql } from 'kysely'
import { ALWAYS_OPEN, type WeekHours } from '../../workflows/kernel/calendar'
import { histogram, summarize } from '../lib/drive'
import { RAW_TASK_QUEUE, STORM_CATEGORY, type Bench } from '../lib/harness'
import type { TimersResult } from '../lib/generator'
import type { ScenarioContext } from '../lib/report'
import { openCasesDirect, type Sizes } from './common'

/** The storm policy's resolve target (seconds), set by the harness's seed. */
const RESOLVE_S = 60

const setWeek = (b: Bench, week: WeekHours) =>
  b.db
    .insertInto('appSettings')
    .values({ key: 'business_week', value: week })
    .onConflict((oc) => oc.column('key').doUpdateSet({ value: week }))
    .execute()

const hhmm = (d: Date) =>
  `${String(d.getUTCHours()).padStart(2, '0')}:${String(d.getUTCMinutes()).padStart(2, '0')}`

/**
 * S4 timer storm: N grievances whose SLA deadlines all fall at one instant. The business calendar
 * opens at a minute M after every case is open, so every resolve clock starts at M and breaches at
 * M + 60 s (reminders at M + 45 s): escalation lateness, none lost, none doubled. The baseline is
 * N raw workflows sleeping until one instant on the minimal worker.
 */
export async function s4Storm(
  b: Bench,
  sizes: Sizes,
  ctx: ScenarioContext,
  rawStartsPerSec: number,
) {
  const n = sizes.storm
  const { concurrency } = sizes

  // Baseline: raw timers, all due at one instant after every start.
  const rawProbe = Date.now()
  // After the last start, at the raw start rate measured in B0 (with a margin).
  const untilMs = rawProbe + 15_000 + (n / Math.max(1, rawStartsPerSec * 0.6)) * 1000
  const raw = await b.gen.run<TimersResult>({
    type: 'temporal-timers',
    address: b.stack.temporal.address,
    taskQueue: RAW_TASK_QUEUE,
    count: n,
    concurrency,
    untilMs,
    idPrefix: `raw-sleep-${rawProbe}`,
  })
  const rawInTime = raw.startedAllAt <= untilMs

  // Calibrate how fast cases open, to put M after the last one.
  const probe = await openCasesDirect(b, {
    count: Math.min(200, Math.max(50, Math.round(n / 20))),
    concurrency,
    tag: `s4probe${Date.now()}`,
  })
  // Should the opening overrun M, the late cases' deadlines fall later: lateness is counted from
  // each case's own deadline (its row's resolve_due_at), and the cases sharing the instant counted.
  const eta = Date.now() + (n / Math.max(0.5, probe.perSec)) * 1.1 * 1000 + 20_000
  const opensAt = new Date(Math.ceil(eta / 60_000) * 60_000)
  const deadline = opensAt.getTime() + RESOLVE_S * 1000
  const week: WeekHours = Object.fromEntries(
    [1, 2, 3, 4, 5, 6, 7].map((d) => [d, [[hhmm(opensAt), '24:00']]]),
  )
  await setWeek(b, week)
  let opened: Awaited<ReturnType<typeof openCasesDirect>>
  try {
    opened = await openCasesDirect(b, {
      count: n,
      concurrency,
      tag: `s4storm${Date.now()}`,
      category: STORM_CATEGORY,
    })
  } finally {
    await setWeek(b, ALWAYS_OPEN.week)
  }
  const openedBeforeM = Date.now() <= opensAt.getTime()
  const ids = opened.caseIds
  const due = await b.db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .where('id', '=', sql<string>`any(${ids})`)
    .where('resolveDueAt', '>=', new Date(deadline))
    .where('resolveDueAt', '<', new Date(deadline + 10_000))
    .executeTakeFirstOrThrow()

  const escalations = async () =>
    sql<{ caseId: string; n: string; recorded: Date; occurred: Date; due: Date | null }>`
      select e.case_id, count(*) as n, min(e.recorded_at) as recorded,
        min(e.occurred_at) as occurred, min(c.resolve_due_at) as due
      from case_events e join cases c on c.id = e.case_id
      where e.type = 'case.escalated' and e.case_id = any(${ids})
      group by e.case_id`.execute(b.db)
  // Until every case has escalated, or nothing more escalates for a minute (those are lost).
  await new Promise((resolve) => setTimeout(resolve, Math.max(0, deadline - Date.now())))
  let seen = -1
  let lastProgress = Date.now()
  for (;;) {
    const count = (await escalations()).rows.length
    if (count >= ids.length) break
    if (count > seen) {
      seen = count
      lastProgress = Date.now()
    } else if (Date.now() - lastProgress > 60_000) {
      ctx.notes.push(`no further escalation for 60 s after ${count} of ${ids.length}`)
      break
    }
    await new Promise((resolve) => setTimeout(resolve, 1_000))
  }
  const settledAfterSec = Math.round((Date.now() - deadline) / 1000)
  // A moment more so that a doubled escalation would show.
  await new Promise((resolve) => setTimeout(resolve, 5_000))
  const rows = (await escalations()).rows
  const visible = histogram()
  const fired = histogram()
  for (const r of rows) {
    const dueAt = r.due ? new Date(r.due).getTime() : deadline
    visible.recordValue(Math.max(1, (new Date(r.recorded).getTime() - dueAt) * 1000))
    fired.recordValue(Math.max(1, (new Date(r.occurred).getTime() - dueAt) * 1000))
  }
  const lateVisible = summarize(visible)
  const lateFired = summarize(fired)
  const lost = ids.length - rows.length
  const doubled = rows.filter((r) => Number(r.n) > 1).length
  const sec = (ms: number) => Math.round(ms / 10) / 100

  ctx.details.raw = raw
  ctx.details.probe = { perSec: probe.perSec, count: probe.caseIds.length }
  ctx.details.opened = { perSec: opened.perSec, count: ids.length, errors: opened.result.errors }
  ctx.details.lateness = { visibleMs: lateVisible, firedMs: lateFired }
  ctx.details.stormCaseIds = ids.length
  ctx.figures.push(
    {
      name: 'escalation lateness p50 (visible in PostgreSQL)',
      value: sec(lateVisible.p50),
      unit: 's',
      baseline: { name: 'raw timer p50', value: sec(raw.latenessMs.p50), unit: 's' },
      target: '≤ 2 s',
      met: lateVisible.p50 <= 2_000 && lost === 0,
    },
    {
      name: 'escalation lateness p99 (visible in PostgreSQL)',
      value: sec(lateVisible.p99),
      unit: 's',
      baseline: { name: 'raw timer p99', value: sec(raw.latenessMs.p99), unit: 's' },
      target: '≤ 15 s',
      met: lateVisible.p99 <= 15_000 && lost === 0,
    },
    {
      name: 'lateness p50 / p99 of the workflow task (timer fired)',
      value: `${sec(lateFired.p50)} / ${sec(lateFired.p99)}`,
      unit: 's',
      met: null,
    },
    { name: 'escalations lost', value: lost, target: '0', met: lost === 0 },
    { name: 'escalations doubled', value: doubled, target: '0', met: doubled === 0 },
  )
  ctx.notes.push(
    `${ids.length} cases opened at ${opened.perSec}/s before ${opensAt.toISOString()} (${openedBeforeM ? 'all' : 'NOT all'} before the calendar opened); ${due.n} of them due within 10 s of ${new Date(deadline).toISOString()}; reminders fell at M + 45 s as well`,
    `all escalations were in (or stopped coming) ${settledAfterSec} s after the deadline`,
    `raw baseline: ${raw.fired} sleepers due at one instant, started at ${raw.started.ratePerSec}/s${rawInTime ? '' : ' (starts overran the instant)'}`,
  )
}
