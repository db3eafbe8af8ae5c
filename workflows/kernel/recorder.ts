import { condition, upsertSearchAttributes, workflowInfo } from '@temporalio/workflow'
import type { caseSearchAttributes } from '../search-attributes'
import { local } from './reference'
import type { Actor, CaseEvent, CaseSnapshot, ProjectedRows, ProjectionItem } from '../messages'

// The read model must land whatever the outage (see `local`). A local activity: the projection
// runs inside the workflow task of the command that caused it (no extra task, no extra state
// transition), and the Update answers with the rows it wrote.
const { projectCaseEvents } = local

export type EventExtra = Pick<
  CaseEvent,
  'data' | 'tasks' | 'notify' | 'contact' | 'links' | 'copyContactFrom'
>

/**
 * Records a case's events in order and projects them in batches: one local activity for
 * everything that happened between two quiet points (every coroutine of the case waiting on a
 * person, a timer or an outside call). A command therefore costs one projection, whatever the
 * lifecycle did in reaction to it, and `answer()` resolves once that projection is written.
 */
export function createRecorder(opts: {
  state: () => CaseSnapshot
  /** Fields of the case row beyond the snapshot (SLA state, due time, household…). */
  snapshot: () => Partial<CaseEvent['snapshot']>
  /** The kind's own read-model row, captured with each event (a referral's row). */
  row?: () => ProjectionItem['referral']
  changed: () => void
}) {
  const { workflowId } = workflowInfo()
  const buffer: ProjectionItem[] = []
  const waits = new Set<() => boolean>()
  const taskRows = new Map<string, ProjectedRows['tasks'][number]>()
  let last: ProjectedRows | undefined
  let inFlight = false
  /** Coroutines of the case that are running (not parked in `wait`). The lifecycle starts. */
  let busy = 1
  let stopped = false
  const attributes = new Map<string, unknown>()

  const quiet = () => busy === 0 && !inFlight && ![...waits].some((ready) => ready())

  const emit = (
    type: string,
    actor: Actor,
    before: Record<string, unknown> | null,
    after: Record<string, unknown>,
    extra: EventExtra = {},
  ): void => {
    const s = opts.state()
    s.seq += 1
    opts.changed()
    const event: CaseEvent = {
      workflowId,
      caseId: s.caseId,
      seq: s.seq,
      type,
      actor,
      occurredAt: new Date().toISOString(),
      before,
      after,
      ...extra,
      snapshot: {
        caseId: s.caseId,
        reference: s.reference,
        kind: s.kind,
        status: s.status,
        stage: s.stage,
        areaCode: s.areaCode,
        category: s.category,
        channel: s.channel,
        priority: s.priority,
        sensitive: s.sensitive,
        openedAt: s.openedAt,
        closedAt: s.closedAt,
        closeReason: s.closeReason,
        seq: s.seq,
        ...opts.snapshot(),
      },
    }
    const referral = opts.row?.()
    buffer.push(referral ? { event, referral } : { event })
  }

  /** Parks the calling coroutine until `ready` (or the timeout): the case may project meanwhile. */
  const wait = async (ready: () => boolean, timeoutMs?: number): Promise<boolean> => {
    waits.add(ready)
    busy -= 1
    try {
      if (timeoutMs === undefined) {
        await condition(ready)
        return true
      }
      return await condition(ready, Math.max(1, timeoutMs))
    } finally {
      waits.delete(ready)
      busy += 1
    }
  }

  /** Parks the calling coroutine on an outside call (a registry write, a child start). */
  const outside = async <T>(call: () => Promise<T>): Promise<T> => {
    busy -= 1
    try {
      return await call()
    } finally {
      busy += 1
    }
  }

  const projector = async () => {
    for (;;) {
      await condition(() => (stopped && !buffer.length) || (buffer.length > 0 && quiet()))
      if (!buffer.length) return
      const batch = buffer.splice(0)
      inFlight = true
      try {
        const rows = await projectCaseEvents(batch)
        last = rows
        for (const t of rows.tasks) taskRows.set(t.id, t)
      } finally {
        inFlight = false
      }
    }
  }

  /** Search attributes are upserted only when a value changes (each upsert is a command). */
  const upsert = (pairs: [(typeof caseSearchAttributes)[number], string][]) => {
    const changed = pairs.filter(([key, value]) => attributes.get(key.name) !== value)
    if (!changed.length) return
    for (const [key, value] of changed) attributes.set(key.name, value)
    upsertSearchAttributes(changed.map(([key, value]) => ({ key, value })))
  }

  /** Runs another coroutine of the case (the deadline watcher), counted as running. */
  const spawn = async (fn: () => Promise<void>) => {
    busy += 1
    try {
      await fn()
    } finally {
      busy -= 1
    }
  }

  void projector()

  return {
    emit,
    wait,
    spawn,
    outside,
    upsert,
    /** Events recorded and not yet projected. */
    pending: () => buffer.length > 0 || inFlight,
    /** Everything recorded so far is projected (the caller is parked meanwhile). */
    drained: () => wait(() => buffer.length === 0 && !inFlight),
    /** What an Update answers with, once the case is quiet and its events are projected. */
    answer: async (taskIds: string[] = []): Promise<ProjectedRows> => {
      // Every command records an event: its answer waits for a projection that includes it.
      await condition(() => last !== undefined && buffer.length === 0 && quiet())
      return {
        seq: last?.seq ?? opts.state().seq,
        case: last?.case ?? null,
        tasks: taskIds.map((id) => taskRows.get(id)).filter((t) => t !== undefined),
      }
    },
    /** The lifecycle has ended: the projector finishes what is buffered, then stops. */
    stop: async () => {
      stopped = true
      busy -= 1
      await condition(() => buffer.length === 0 && !inFlight)
    },
    /** A value the workflow already carries (given at start, or by the previous run). */
    remember: (name: string, value: unknown) => {
      attributes.set(name, value)
    },
  }
}

export type Recorder = ReturnType<typeof createRecorder>
