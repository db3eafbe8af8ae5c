import { SYSTEM_ACTOR, type RoleCode } from '../messages'
import { CaseSlaStateKey } from '../search-attributes'
import type { Kernel, KernelState } from './case'
import { slaStatus, type SlaStatus } from './sla'
import { isOpen, type HumanTask } from './tasks'

/** Escalation ladder: level 1 = cercle, 2 = region, 3 = national. */
export const MAX_ESCALATION = 3

export type Alert =
  | { type: 'risk' }
  | { type: 'escalate'; level: number }
  | { type: 'task_risk'; taskId: string }
  | { type: 'task_overdue'; taskId: string }

/** The case clock as if its target were longer: level k breaches at target + (k-1) × repeat. */
function statusAtLevel(s: KernelState, level: number, at: Date): SlaStatus | undefined {
  const clock = s.clock
  if (!clock?.length) return undefined
  const { calendar, atRiskRatio, targets } = s.context.policy
  const shift = (level - 1) * (targets.escalationRepeat ?? 0)
  if (shift <= 0) return slaStatus(calendar, clock, at, atRiskRatio)
  const last = clock[clock.length - 1]!
  return slaStatus(
    calendar,
    [
      ...clock.filter((e) => e.type !== 'stopped'),
      { type: 'extended', at: last.at, byMs: shift, reason: 'escalation_ladder' },
      ...clock.filter((e) => e.type === 'stopped'),
    ],
    at,
    atRiskRatio,
  )
}

/** Tasks with a stage target of their own that the watcher reminds and escalates. */
const watched = (t: HumanTask, skip: string[]) =>
  isOpen(t) && !!t.dueAt && t.kind !== 'escalation' && !skip.includes(t.kind)

/**
 * What is due at `at` (pure): the at-risk reminder and each escalation level of the whole case's
 * clock (a paused or stopped clock raises nothing), and for each open task with a due time its
 * reminder at the at-risk ratio and its escalation once overdue; and when to look again.
 */
export function plan(
  s: KernelState,
  at: Date,
  skipKinds: string[] = [],
): { alerts: Alert[]; wakeAt: number | undefined } {
  if (s.status === 'closed') return { alerts: [], wakeAt: undefined }
  const alerts: Alert[] = []
  const wake: number[] = []
  const alerted = s.alerted ?? []
  const status = statusAtLevel(s, 1, at)
  if (status && status.state !== 'met') {
    if ((status.state === 'at_risk' || status.state === 'breached') && !alerted.includes('risk'))
      alerts.push({ type: 'risk' })
    else if (!alerted.includes('risk') && status.atRiskAt) wake.push(Date.parse(status.atRiskAt))
    const level = (s.escalationLevel ?? 0) + 1
    if (level <= MAX_ESCALATION) {
      const next = statusAtLevel(s, level, at)
      if (next?.breachedAt) alerts.push({ type: 'escalate', level })
      else if (next?.dueAt) wake.push(Date.parse(next.dueAt))
    }
  }
  const ratio = s.context.policy.atRiskRatio
  for (const t of s.tasks.filter((t) => watched(t, skipKinds))) {
    const due = Date.parse(t.dueAt!)
    const created = Date.parse(t.createdAt)
    const risk = created + Math.floor((due - created) * ratio)
    if (!alerted.includes(`overdue:${t.id}`)) {
      if (at.getTime() >= due) alerts.push({ type: 'task_overdue', taskId: t.id })
      else wake.push(due)
    }
    if (!alerted.includes(`risk:${t.id}`) && !alerted.includes(`overdue:${t.id}`)) {
      if (at.getTime() >= risk && at.getTime() < due)
        alerts.push({ type: 'task_risk', taskId: t.id })
      else if (at.getTime() < risk) wake.push(risk)
    }
  }
  return { alerts, wakeAt: wake.length ? Math.min(...wake) : undefined }
}

/**
 * The deadline watcher every case kind runs: reminders to the assignees at the at-risk
 * threshold; at each breach of the case's target one level up the geography (commune → cercle →
 * region → national) with an escalation task; an overdue stage (a task past its target) escalated
 * to the cercle's supervisors. The timer is re-armed only when the next instant changes.
 */
export function createWatcher<S extends KernelState>(
  k: Kernel<S>,
  options: { skipTaskKinds?: string[] } = {},
) {
  const skip = options.skipTaskKinds ?? []
  const s = () => k.state()
  const mark = (key: string) => {
    s().alerted = [...(s().alerted ?? []), key]
  }
  const assignees = (tasks: HumanTask[]) => [
    ...new Set(tasks.map((t) => t.assigneeId).filter((u): u is string => !!u)),
  ]
  const escalate = async (level: number, areaCode: string) => {
    const role: RoleCode = level >= MAX_ESCALATION ? 'programme_manager' : 'supervisor'
    await k.openTask('escalation', {
      role,
      areaCode,
      candidateAreas: [areaCode],
      escalationLevel: level,
    })
  }

  const apply = async (alert: Alert) => {
    const st = s()
    const areaPath = st.context.areaPath
    switch (alert.type) {
      case 'risk': {
        mark('risk')
        const dueAt = k.sla()?.dueAt ?? undefined
        k.emit(
          'sla.at_risk',
          SYSTEM_ACTOR,
          null,
          { dueAt: dueAt ?? null },
          {
            notify: assignees(st.tasks.filter(isOpen)).map((userId) => ({
              template: 'task_reminder',
              to: { userId },
              params: { dueAt },
            })),
          },
        )
        return
      }
      case 'escalate': {
        const areaCode = areaPath[Math.min(alert.level, areaPath.length - 1)]!
        st.escalationLevel = alert.level
        k.emit(
          'case.escalated',
          SYSTEM_ACTOR,
          { escalationLevel: alert.level - 1 },
          { escalationLevel: alert.level, areaCode },
        )
        await escalate(alert.level, areaCode)
        return
      }
      case 'task_risk': {
        mark(`risk:${alert.taskId}`)
        const task = st.tasks.find((t) => t.id === alert.taskId)!
        k.emit(
          'task.at_risk',
          SYSTEM_ACTOR,
          null,
          { taskId: task.id, kind: task.kind, dueAt: task.dueAt },
          {
            notify: assignees([task]).map((userId) => ({
              template: 'task_reminder',
              to: { userId },
              params: { taskKind: task.kind, dueAt: task.dueAt ?? undefined },
            })),
          },
        )
        return
      }
      case 'task_overdue': {
        mark(`overdue:${alert.taskId}`)
        const task = st.tasks.find((t) => t.id === alert.taskId)!
        const areaCode = areaPath[Math.min(1, areaPath.length - 1)]!
        k.emit('task.overdue', SYSTEM_ACTOR, null, {
          taskId: task.id,
          kind: task.kind,
          dueAt: task.dueAt,
          areaCode,
        })
        await escalate(1, areaCode)
        return
      }
    }
  }

  return async () => {
    while (!k.closed()) {
      const { alerts, wakeAt } = plan(s(), k.now(), skip)
      for (const alert of alerts) await apply(alert)
      k.rec.upsert([[CaseSlaStateKey, k.sla()?.state ?? 'on_track']])
      if (alerts.length) continue
      const changed = () => {
        if (k.closed()) return true
        const next = plan(s(), k.now(), skip)
        return next.alerts.length > 0 || next.wakeAt !== wakeAt
      }
      await k.rec.wait(changed, wakeAt === undefined ? undefined : wakeAt - Date.now())
    }
  }
}
