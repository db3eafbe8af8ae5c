import type { Client } from '@temporalio/client'
import proto from '@temporalio/proto'

/**
 * The work Temporal does for a workflow, read from Temporal itself: its `stateTransitionCount`
 * (what the server persisted, independent of machine load) and its history. Nothing here knows
 * our workflows, their activities or their names, so the counts stay comparable when the
 * workflows change: a run continued as new is followed back to its first run and summed.
 */

const EventType = proto.temporal.api.enums.v1.EventType
const Status = proto.temporal.api.enums.v1.WorkflowExecutionStatus
/** The marker the SDK core records for each local activity. */
const LOCAL_ACTIVITY_MARKER = 'core_local_activity'

export interface Work {
  stateTransitions: number
  events: number
  /** WorkflowTaskCompleted events. */
  workflowTasks: number
  /** ActivityTaskScheduled events. */
  activities: number
  /** MarkerRecorded events of local activities. */
  localActivities: number
  timersStarted: number
  timersFired: number
  timersCanceled: number
  searchAttributeUpserts: number
  updates: number
  signals: number
  runs: number
}

export const noWork = (): Work => ({
  stateTransitions: 0,
  events: 0,
  workflowTasks: 0,
  activities: 0,
  localActivities: 0,
  timersStarted: 0,
  timersFired: 0,
  timersCanceled: 0,
  searchAttributeUpserts: 0,
  updates: 0,
  signals: 0,
  runs: 0,
})

export function minus(a: Work, b: Work): Work {
  const out = noWork()
  for (const k of Object.keys(out) as (keyof Work)[]) out[k] = a[k] - b[k]
  return out
}

function plus(a: Work, b: Work): Work {
  const out = noWork()
  for (const k of Object.keys(out) as (keyof Work)[]) out[k] = a[k] + b[k]
  return out
}

/** `events / workflow tasks / activities / local activities`, as the tables print it. */
export const shape = (w: Work) =>
  `${w.events} ev, ${w.workflowTasks} WFT, ${w.activities} act, ${w.localActivities} LA`

async function describe(client: Client, workflowId: string, runId?: string) {
  return client.workflowService.describeWorkflowExecution({
    namespace: client.options.namespace,
    execution: { workflowId, runId },
  })
}

async function runWork(client: Client, workflowId: string, runId: string) {
  const d = await describe(client, workflowId, runId)
  const history = await client.workflow.getHandle(workflowId, runId).fetchHistory()
  const events = history.events ?? []
  const count = (type: number) => events.filter((e) => e.eventType === type).length
  const work: Work = {
    stateTransitions: Number(d.workflowExecutionInfo?.stateTransitionCount ?? 0),
    events: events.length,
    workflowTasks: count(EventType.EVENT_TYPE_WORKFLOW_TASK_COMPLETED),
    activities: count(EventType.EVENT_TYPE_ACTIVITY_TASK_SCHEDULED),
    localActivities: events.filter(
      (e) =>
        e.eventType === EventType.EVENT_TYPE_MARKER_RECORDED &&
        e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER,
    ).length,
    timersStarted: count(EventType.EVENT_TYPE_TIMER_STARTED),
    timersFired: count(EventType.EVENT_TYPE_TIMER_FIRED),
    timersCanceled: count(EventType.EVENT_TYPE_TIMER_CANCELED),
    searchAttributeUpserts: count(EventType.EVENT_TYPE_UPSERT_WORKFLOW_SEARCH_ATTRIBUTES),
    updates: count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_UPDATE_ACCEPTED),
    signals: count(EventType.EVENT_TYPE_WORKFLOW_EXECUTION_SIGNALED),
    runs: 1,
  }
  const previous =
    events[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId || undefined
  return { work, previous }
}

/** The work of a workflow so far, every run of its continue-as-new chain included. */
export async function workOf(client: Client, workflowId: string): Promise<Work> {
  const latest = await describe(client, workflowId)
  let runId = latest.workflowExecutionInfo?.execution?.runId ?? undefined
  let total = noWork()
  for (let hops = 0; runId && hops < 1000; hops++) {
    const { work, previous } = await runWork(client, workflowId, runId)
    total = plus(total, work)
    runId = previous
  }
  return total
}

/**
 * What the history holds, by event type and by activity type (every run of the chain): where a
 * lifecycle's events come from, without knowing the workflow's activities in advance.
 */
export async function breakdownOf(client: Client, workflowId: string) {
  const events: Record<string, number> = {}
  const activities: Record<string, number> = {}
  const latest = await describe(client, workflowId)
  let runId = latest.workflowExecutionInfo?.execution?.runId ?? undefined
  for (let hops = 0; runId && hops < 1000; hops++) {
    const history = await client.workflow.getHandle(workflowId, runId).fetchHistory()
    for (const e of history.events ?? []) {
      const type = (EventType[e.eventType ?? 0] ?? String(e.eventType)).replace('EVENT_TYPE_', '')
      events[type] = (events[type] ?? 0) + 1
      const name =
        e.activityTaskScheduledEventAttributes?.activityType?.name ??
        (e.markerRecordedEventAttributes?.markerName === LOCAL_ACTIVITY_MARKER
          ? 'local activity'
          : undefined)
      if (name) activities[name] = (activities[name] ?? 0) + 1
    }
    runId =
      history.events?.[0]?.workflowExecutionStartedEventAttributes?.continuedExecutionRunId ||
      undefined
  }
  return { events, activities }
}

export interface Settled {
  closed: boolean
  work: Work
}

/**
 * Waits until the workflow has nothing in flight (no workflow task, activity or child pending:
 * it waits for a message or a timer, or it has closed), seen twice in a row with the same
 * counts, then returns its work. That is where one command's work ends and the next begins.
 */
export async function settled(
  client: Client,
  workflowId: string,
  timeoutMs = 120_000,
): Promise<Settled> {
  const deadline = Date.now() + timeoutMs
  let last: string | undefined
  for (;;) {
    const d = await describe(client, workflowId)
    const info = d.workflowExecutionInfo
    const status = info?.status ?? Status.WORKFLOW_EXECUTION_STATUS_UNSPECIFIED
    const idle =
      !d.pendingWorkflowTask &&
      (d.pendingActivities?.length ?? 0) === 0 &&
      (d.pendingChildren?.length ?? 0) === 0 &&
      (d.pendingNexusOperations?.length ?? 0) === 0
    const closed =
      status !== Status.WORKFLOW_EXECUTION_STATUS_RUNNING &&
      status !== Status.WORKFLOW_EXECUTION_STATUS_CONTINUED_AS_NEW
    const key = `${info?.execution?.runId}:${String(info?.stateTransitionCount)}:${String(info?.historyLength)}`
    if ((idle || closed) && key === last) {
      return { closed, work: await workOf(client, workflowId) }
    }
    last = idle || closed ? key : undefined
    if (Date.now() > deadline)
      throw new Error(`${workflowId} still busy after ${timeoutMs} ms (last seen: ${key})`)
    await new Promise((resolve) => setTimeout(resolve, 50))
  }
}
