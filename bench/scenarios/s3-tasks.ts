import type { Bench } from '../lib/harness'
import type { CompleteResult } from '../lib/generator'
import type { ScenarioContext } from '../lib/report'
import { intakeEndToEnd, rawUpdates, ratio, waitUntil, type Sizes } from './common'

const triageData = { category: 'payment_not_received', sensitive: false, priority: 'normal' }

/** Open triage tasks assigned to someone, with the assignee's token, oldest first. */
export async function openTriageTasks(b: Bench, limit: number) {
  const rows = await b.db
    .selectFrom('tasks')
    .select(['id', 'assigneeId'])
    .where('kind', '=', 'triage')
    .where('status', 'in', ['open', 'claimed'])
    .where('assigneeId', 'is not', null)
    .orderBy('createdAt')
    .limit(limit)
    .execute()
  return rows.map((r) => ({
    taskId: r.id,
    token: b.tokenByUser.get(r.assigneeId!)!,
    data: triageData,
  }))
}

/**
 * S3 task completion: API complete-task → workflow Update → projection, then the task list shows
 * it completed; round trips/s against raw Update round trips/s, latency at half the maximum rate.
 */
export async function s3Tasks(b: Bench, sizes: Sizes, ctx: ScenarioContext) {
  const { concurrency } = sizes
  const raw = await rawUpdates(b, sizes.tasks, concurrency, 's3')
  // Enough open triage tasks for both phases (S1 leaves some; intake makes up the rest).
  const needed = sizes.tasks + Math.round(sizes.tasks * 0.75) + 10
  let items = await openTriageTasks(b, needed)
  if (items.length < needed) {
    await intakeEndToEnd(b, { count: needed - items.length, concurrency, tag: 's3prep' })
    items = await waitUntil(
      'triage tasks of the new cases',
      async () => {
        const found = await openTriageTasks(b, needed)
        return found.length >= needed ? found : undefined
      },
      120_000,
      200,
    )
  }
  const maxItems = items.slice(0, sizes.tasks)
  const max = await b.gen.run<CompleteResult>({
    type: 'complete',
    baseUrl: b.apiUrl,
    items: maxItems,
    concurrency,
  })
  const rate = Math.max(1, Math.round(max.ratePerSec * 0.5 * 10) / 10)
  const halfItems = items.slice(sizes.tasks, sizes.tasks + Math.round(rate * sizes.fixedRateSec))
  const half = await b.gen.run<CompleteResult>({
    type: 'complete',
    baseUrl: b.apiUrl,
    items: halfItems,
    concurrency: 64,
    rate,
  })
  ctx.details.raw = raw
  ctx.details.max = max
  ctx.details.half = half
  const r = ratio(max.ratePerSec, raw.ratePerSec)
  ctx.figures.push(
    {
      name: 'task completions/s, visible in the list (max)',
      value: max.ratePerSec,
      unit: '/s',
      baseline: { name: 'raw Update round trips/s', value: raw.ratePerSec, unit: '/s' },
      ratio: r,
      target: '≥ 0.70 × raw',
      met: r >= 0.7 && max.errors === 0,
    },
    {
      name: 'latency at max: p50 / p99',
      value: `${max.latencyMs.p50} / ${max.latencyMs.p99}`,
      unit: 'ms',
      baseline: { name: 'raw Update p50', value: raw.latencyMs.p50, unit: 'ms' },
      met: null,
    },
    {
      name: `p50 at half the max rate (${rate}/s)`,
      value: half.latencyMs.p50,
      unit: 'ms',
      target: '≤ 40 ms',
      met: half.latencyMs.p50 <= 40 && half.errors === 0,
    },
    {
      name: `p99 at half the max rate (${rate}/s)`,
      value: half.latencyMs.p99,
      unit: 'ms',
      target: '≤ 200 ms',
      met: half.latencyMs.p99 <= 200 && half.errors === 0,
    },
    {
      name: 'completions not yet visible in the next list',
      value: max.notVisible + half.notVisible,
      target: '0',
      met: max.notVisible + half.notVisible === 0,
    },
  )
  ctx.notes.push(
    `one round trip = POST /api/tasks/{id}/complete then GET /api/tasks?filter={"id":…} (the list the user sees next); concurrency ${concurrency}; ${max.count} + ${half.count} completions, errors ${max.errors + half.errors}${max.errorSamples[0] ? ` (${max.errorSamples[0]})` : ''}`,
  )
}
