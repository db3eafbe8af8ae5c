import { sql } from 'kysely'
import type { Bench } from '../lib/harness'
import type { ScenarioContext } from '../lib/report'
import {
  cpuPer,
  cpuSnapshot,
  intakeEndToEnd,
  rawStarts,
  ratio,
  showCpu,
  type Sizes,
} from './common'

/**
 * S1 intake: cases created per second through the API, end to end (workflow started, projection
 * written), against raw Temporal starts/s; API p99 at 70 % of that rate; no duplicate when
 * clients retry with the same Idempotency-Key.
 */
export async function s1Intake(b: Bench, sizes: Sizes, ctx: ScenarioContext) {
  const { concurrency } = sizes
  const cpu0 = await cpuSnapshot(b)
  const raw = await rawStarts(b, sizes.intake, concurrency, 's1')
  const cpu1 = await cpuSnapshot(b)
  const before = await b.db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()

  // Maximum rate: a closed loop; every 10th request is retried with its key (a lost answer).
  const max = await intakeEndToEnd(b, {
    count: sizes.intake,
    concurrency,
    retryEvery: 10,
    tag: 's1max',
  })
  const cpu2 = await cpuSnapshot(b)
  const rawCpu = cpuPer(cpu0, cpu1, raw.ok)
  const caseCpu = cpuPer(cpu1, cpu2, new Set(max.load.caseIds).size)
  ctx.details.cpuMsPerCase = caseCpu
  ctx.details.cpuMsPerRawStart = rawCpu
  const after = await b.db
    .selectFrom('cases')
    .select((eb) => eb.fn.countAll<string>().as('n'))
    .executeTakeFirstOrThrow()
  const created = Number(after.n) - Number(before.n)
  const distinct = new Set(max.load.caseIds).size
  const workflows = await b.db
    .selectFrom('caseEvents')
    .select(sql<string>`count(distinct workflow_id)`.as('n'))
    .where('caseId', '=', sql<string>`any(${max.load.caseIds})`)
    .where('type', '=', 'case.opened')
    .executeTakeFirstOrThrow()

  // 70 % of the maximum end-to-end rate, open loop, for a fixed time.
  const rate = Math.max(1, Math.round(max.endToEndPerSec * 0.7 * 10) / 10)
  const fixed = await intakeEndToEnd(b, {
    count: Math.max(10, Math.round(rate * sizes.fixedRateSec)),
    concurrency: 64,
    rate,
    tag: 's1fixed',
  })

  ctx.details.raw = raw
  ctx.details.max = { ...max, load: { ...max.load, caseIds: undefined } }
  ctx.details.fixed = { ...fixed, load: { ...fixed.load, caseIds: undefined } }
  ctx.details.s1Rate = max.endToEndPerSec
  const r = ratio(max.endToEndPerSec, raw.ratePerSec)
  ctx.figures.push(
    {
      name: 'cases created/s, end to end (max)',
      value: max.endToEndPerSec,
      unit: '/s',
      baseline: { name: 'raw Temporal starts/s', value: raw.ratePerSec, unit: '/s' },
      ratio: r,
      target: '≥ 0.85 × raw',
      met: r >= 0.85,
    },
    {
      name: 'API answers/s at max (before projection)',
      value: max.load.ratePerSec,
      unit: '/s',
      met: null,
    },
    {
      name: 'API latency at max: p50 / p99',
      value: `${max.load.latencyMs.p50} / ${max.load.latencyMs.p99}`,
      unit: 'ms',
      baseline: { name: 'raw start p99', value: raw.latencyMs.p99, unit: 'ms' },
      met: null,
    },
    {
      name: `API p99 at 70 % of max (${rate}/s)`,
      value: fixed.load.latencyMs.p99,
      unit: 'ms',
      target: '≤ 100 ms',
      met: fixed.load.latencyMs.p99 <= 100 && fixed.load.errors === 0,
    },
    {
      name: `duplicates after ${max.load.retries} retries (same key)`,
      value: created - distinct + (Number(workflows.n) - distinct),
      target: '0',
      met:
        created === distinct &&
        Number(workflows.n) === distinct &&
        max.load.retriesReplayed === max.load.retries &&
        distinct === sizes.intake,
    },
  )
  ctx.notes.push(
    `${sizes.intake} requests + ${max.load.retries} retries with the same Idempotency-Key: ${created} case rows, ${workflows.n} workflows opened, ${max.load.retriesReplayed} retries answered with the first case id; errors ${max.load.errors + fixed.load.errors}${max.load.errorSamples.length ? ` (${max.load.errorSamples[0]})` : ''}`,
    `CPU ms per case created, by process: ${showCpu(caseCpu)}; per raw start: ${showCpu(rawCpu)}`,
    `concurrency ${concurrency}; fixed-rate phase ${fixed.load.count} requests at ${rate}/s, achieved ${fixed.load.ratePerSec}/s, p50 ${fixed.load.latencyMs.p50} ms`,
  )
}
