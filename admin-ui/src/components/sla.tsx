import { Chip } from '@mui/material'
import { useMemo } from 'react'
import { useGetList, useTranslate } from 'react-admin'
import {
  maliCalendar,
  workingTimeBetween,
  type BusinessCalendar,
} from '../../../workflows/kernel/calendar'

export type SlaBadgeState = 'on_track' | 'at_risk' | 'breached' | 'paused' | 'met'

/** Share of the allotted working time after which a task is shown at risk. */
export const AT_RISK_ELAPSED = 0.75

/**
 * Mali's business calendar with the public holidays of this year and the next, from the holiday
 * calendar the administrators keep (lunar holidays move every year).
 */
export function useBusinessCalendar(now = new Date()): BusinessCalendar {
  const year = now.getUTCFullYear()
  const options = {
    pagination: { page: 1, perPage: 100 },
    sort: { field: 'date', order: 'ASC' as const },
  }
  const { data: thisYear } = useGetList<{ id: string; date: string }>('holidays', {
    ...options,
    filter: { year },
  })
  const { data: nextYear } = useGetList<{ id: string; date: string }>('holidays', {
    ...options,
    filter: { year: year + 1 },
  })
  return useMemo(
    () => maliCalendar([...(thisYear ?? []), ...(nextYear ?? [])].map((h) => h.date)),
    [thisYear, nextYear],
  )
}

/** Working time left until `dueAt` (negative once overdue), and the badge it earns. */
export function taskSla(
  task: { dueAt: string | null; createdAt: string; status?: string },
  now: Date,
  calendar: BusinessCalendar,
): { state: SlaBadgeState; leftMs: number | null } {
  if (task.status === 'completed') return { state: 'met', leftMs: null }
  if (!task.dueAt) return { state: 'on_track', leftMs: null }
  const due = new Date(task.dueAt)
  if (due <= now) return { state: 'breached', leftMs: -workingTimeBetween(calendar, due, now) }
  const leftMs = workingTimeBetween(calendar, now, due)
  const allotted = workingTimeBetween(calendar, new Date(task.createdAt), due)
  const state = allotted > 0 && leftMs <= allotted * (1 - AT_RISK_ELAPSED) ? 'at_risk' : 'on_track'
  return { state, leftMs }
}

/** "3 h 20 min" of working time (hours and minutes: the working day is short in Mali). */
export function useFormatWorkingTime() {
  const translate = useTranslate()
  return (ms: number, overdue = ms < 0) => {
    const minutes = Math.round(Math.abs(ms) / 60_000)
    const hours = Math.floor(minutes / 60)
    const duration =
      hours > 0
        ? translate('rsu.sla.hours_minutes', { hours, minutes: minutes % 60 })
        : translate('rsu.sla.minutes', { minutes })
    return translate(overdue ? 'rsu.sla.overdue_by' : 'rsu.sla.left', { duration })
  }
}

const colours: Record<SlaBadgeState, 'success' | 'warning' | 'error' | 'default' | 'info'> = {
  on_track: 'success',
  at_risk: 'warning',
  breached: 'error',
  paused: 'info',
  met: 'default',
}

/** The SLA state as a coloured badge with its label (never colour alone). */
export function SlaBadge({ state }: { state: string }) {
  const translate = useTranslate()
  const known = (state in colours ? state : 'on_track') as SlaBadgeState
  return (
    <Chip
      size="small"
      color={colours[known]}
      label={translate(`rsu.sla.state.${known}`)}
      data-testid="sla-badge"
      data-state={known}
    />
  )
}
