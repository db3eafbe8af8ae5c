import proto from '@temporalio/proto'
import type { Bench } from '../lib/harness'
import { RAW_TASK_QUEUE } from '../lib/harness'
import type { CompleteResult } from '../lib/generator'
import type { DriveResult } from '../lib/drive'
import { sampleProcess } from '../lib/proc'
import type { ScenarioContext } from '../lib/report'
import { caseWorkflowId } from '../../workflows/messages'
import type { MimicShape } from '../raw/workflows'
import {
  cpuPer,
  cpuSnapshot,
  intakeEndToEnd,
  ratio,
  showCpu,
  waitUntil,
  type Sizes,
} from './common'

const EventType = proto.temporal.api.enums.v1.EventType

/** Counts of one workflow's history: workflow tasks, activities, Updates, timers fired. */
async function historyShape(b: Bench, workflowId: string) {
  const history = await b.client.workflow.getHandle(workflowId).fetchHistory()
  const count = (type: number) => (history.events ?? []).filter((e) => e.eventType === type).length
  return {
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    updates: count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    timersFired: count(EventType.EVENT_TYPE_TIMER_FIRED),
    events: history.events?.length ?? 0,
  }
}

const cpu = async (pid: number) => (await sampleProcess(pid))?.cpuSeconds ?? 0

/**
 * S6 cost per case: CPU seconds of the worker process per complete grievance lifecycle (intake,
 * triage, investigation, outcome, appeal window, closure), against the minimal worker running
 * workflows with the same count of workflow tasks, activities, Updates and timers.
 */
export async function s6Cost(b: Bench, sizes: Sizes, ctx: ScenarioContext) {
  const n = sizes.lifecycles
  const { concurrency } = sizes
  const all0 = await cpuSnapshot(b)
  const workerCpu0 = await cpu(b.worker.pid)
  const apiCpu0 = await cpu(b.api.pid)
  const opened = await intakeEndToEnd(b, { count: n, concurrency, tag: 's6' })
  const caseIds = [...new Set(opened.load.caseIds)]
  const tasksOf = async (kind: string) =>
    waitUntil(
      `${kind} tasks of the S6 cases`,
      async () => {
        const rows = await b.db
          .selectFrom('tasks')
          .select(['id', 'assigneeId'])
          .where('caseId', 'in', caseIds)
          .where('kind', '=', kind)
          .where('status', 'in', ['open', 'claimed'])
          .where('assigneeId', 'is not', null)
          .execute()
        return rows.length >= caseIds.length ? rows : undefined
      },
      180_000,
      200,
    )
  const triage = await tasksOf('triage')
  const triaged = await b.gen.run<CompleteResult>({
    type: 'complete',
    baseUrl: b.apiUrl,
    concurrency,
    items: triage.map((t) => ({
      taskId: t.id,
      token: b.tokenByUser.get(t.assigneeId!)!,
      data: { category: 'payment_not_received', sensitive: false, priority: 'normal' },
    })),
  })
  const investigation = await tasksOf('investigation')
  const investigated = await b.gen.run<CompleteResult>({
    type: 'complete',
    baseUrl: b.apiUrl,
    concurrency,
    items: investigation.map((t) => ({
      taskId: t.id,
      token: b.tokenByUser.get(t.assigneeId!)!,
      data: {
        findings: 'Paiement retrouvé, information donnée au plaignant.',
        proposedResolution: 'information_given',
        changesEligibilityOrPayment: false,
      },
    })),
  })
  await waitUntil(
    'every S6 case closed',
    async () => {
      const row = await b.db
        .selectFrom('cases')
        .select((eb) => eb.fn.countAll<string>().as('n'))
        .where('id', 'in', caseIds)
        .where('status', '=', 'closed')
        .executeTakeFirstOrThrow()
      return Number(row.n) >= caseIds.length
    },
    180_000,
    200,
  )
  const workerCpu = (await cpu(b.worker.pid)) - workerCpu0
  const apiCpu = (await cpu(b.api.pid)) - apiCpu0
  const all1 = await cpuSnapshot(b)

  const sample = await Promise.all(
    caseIds.slice(0, 5).map((id) => historyShape(b, caseWorkflowId(id))),
  )
  const avg = (k: keyof (typeof sample)[number]) =>
    Math.round(sample.reduce((s, h) => s + h[k], 0) / sample.length)
  const shape: MimicShape = {
    activities: avg('activities'),
    updates: avg('updates'),
    timers: avg('timersFired'),
  }
  const ourWfts = avg('workflowTasks')

  const rawCpu0 = await cpu(b.rawWorker.pid)
  const mimicPrefix = `raw-mimic-${Date.now()}`
  const mimic = await b.gen.run<DriveResult>({
    type: 'temporal-mimic',
    address: b.stack.temporal.address,
    taskQueue: RAW_TASK_QUEUE,
    count: n,
    concurrency,
    shape,
    idPrefix: mimicPrefix,
  })
  const rawCpu = (await cpu(b.rawWorker.pid)) - rawCpu0
  const all2 = await cpuSnapshot(b)
  // The raw workflow taking the same human steps and waits (start, the Updates, the timers)
  // with no activity: what Temporal alone costs for this lifecycle, the target's baseline.
  const humanPrefix = `raw-human-${Date.now()}`
  const human = await b.gen.run<DriveResult>({
    type: 'temporal-mimic',
    address: b.stack.temporal.address,
    taskQueue: RAW_TASK_QUEUE,
    count: n,
    concurrency,
    shape: { activities: 0, updates: shape.updates, timers: shape.timers },
    idPrefix: humanPrefix,
  })
  const humanCpu = (await cpu(b.rawWorker.pid)) - rawCpu0 - rawCpu
  const all3 = await cpuSnapshot(b)
  const oursByProcess = cpuPer(all0, all1, caseIds.length)
  const rawByProcess = cpuPer(all1, all2, mimic.ok)
  const humanByProcess = cpuPer(all2, all3, human.ok)
  ctx.details.cpuMsPerLifecycle = oursByProcess
  ctx.details.cpuMsPerMimic = rawByProcess
  ctx.details.cpuMsPerRawHumanSteps = humanByProcess
  const rawShape = await historyShape(b, `${mimicPrefix}-0`)
  const humanShape = await historyShape(b, `${humanPrefix}-0`)
  const humanPerCase = humanCpu / Math.max(1, human.ok)

  const ours = workerCpu / caseIds.length
  const rawPerCase = rawCpu / Math.max(1, mimic.ok)
  // The same number of workflow tasks: scale the raw cost per workflow task to ours.
  const rawSameWfts = (rawPerCase / Math.max(1, rawShape.workflowTasks)) * ourWfts
  const r = ratio(ours, rawSameWfts)
  const rHuman = ratio(ours, humanPerCase)
  ctx.details.history = { ours: sample, raw: rawShape }
  ctx.details.completions = { triaged, investigated }
  ctx.details.mimic = mimic
  ctx.details.rawHumanSteps = { drive: human, history: humanShape }
  ctx.figures.push(
    {
      name: 'worker CPU per grievance lifecycle',
      value: Math.round(ours * 1000),
      unit: 'ms',
      baseline: {
        name: `raw worker, same human steps, no activity (${humanShape.updates} upd, ${humanShape.timersFired} timers, ${humanShape.workflowTasks} WFTs)`,
        value: Math.round(humanPerCase * 1000),
        unit: 'ms',
      },
      ratio: rHuman,
      target: '≤ 1.25 × raw',
      met: rHuman <= 1.25,
    },
    {
      name: 'worker CPU per grievance lifecycle (same workflow tasks and activities)',
      value: Math.round(ours * 1000),
      unit: 'ms',
      baseline: {
        name: `raw worker, same ${ourWfts} workflow tasks`,
        value: Math.round(rawSameWfts * 1000),
        unit: 'ms',
      },
      ratio: r,
      met: null,
    },
    {
      name: 'API CPU per lifecycle (intake + 2 completions)',
      value: Math.round((apiCpu / caseIds.length) * 1000),
      unit: 'ms',
      met: null,
    },
    {
      name: 'per lifecycle: workflow tasks / activities / Updates / timers',
      value: `${ourWfts} / ${shape.activities} / ${shape.updates} / ${shape.timers}`,
      baseline: {
        name: `raw mimic WFTs (${rawShape.activities} act, ${rawShape.updates} upd, ${rawShape.timersFired} timers)`,
        value: rawShape.workflowTasks,
      },
      met: null,
    },
  )
  ctx.figures.push({
    name: 'Temporal server CPU per lifecycle',
    value: oursByProcess.temporal ?? 0,
    unit: 'ms',
    baseline: { name: 'per raw mimic', value: rawByProcess.temporal ?? 0, unit: 'ms' },
    ratio: ratio(oursByProcess.temporal ?? 0, rawByProcess.temporal ?? 0),
    met: null,
  })
  ctx.figures.push({
    name: 'Temporal server CPU per lifecycle (vs same human steps, no activity)',
    value: oursByProcess.temporal ?? 0,
    unit: 'ms',
    baseline: { name: 'per raw lifecycle', value: humanByProcess.temporal ?? 0, unit: 'ms' },
    ratio: ratio(oursByProcess.temporal ?? 0, humanByProcess.temporal ?? 0),
    met: null,
  })
  ctx.notes.push(
    `CPU ms per lifecycle by process: ${showCpu(oursByProcess)}; per raw mimic: ${showCpu(rawByProcess)}; per raw lifecycle of the same human steps (no activity): ${showCpu(humanByProcess)}`,
    `${caseIds.length} lifecycles: worker ${workerCpu.toFixed(1)} s CPU, API ${apiCpu.toFixed(1)} s; raw: ${mimic.ok} mimic workflows, raw worker ${rawCpu.toFixed(1)} s CPU (${Math.round(rawPerCase * 1000)} ms each, ${rawShape.workflowTasks} workflow tasks each); errors ${triaged.errors + investigated.errors + mimic.errors}`,
  )
}
