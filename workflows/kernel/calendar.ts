/**
 * The business calendar SLA targets are counted on: working hours per weekday and public holidays,
 * in the local time of the office. Pure and deterministic (runs in Temporal's workflow sandbox):
 * no time-zone database, no clock; local time is UTC plus a fixed offset, which is exact for
 * Africa/Bamako (UTC+0 all year, no daylight saving).
 */

/** ISO weekday 1 = Monday … 7 = Sunday → working periods that day, local 'HH:MM' (end may be '24:00'), sorted, non-overlapping. */
export type WeekHours = Partial<Record<1 | 2 | 3 | 4 | 5 | 6 | 7, Array<[string, string]>>>

/** Working hours and public holidays of one office; a case snapshots it with its SLA policy. */
export interface BusinessCalendar {
  /** Offset of local time from UTC in minutes: 0 for Africa/Bamako (no daylight saving). */
  utcOffsetMinutes: number
  week: WeekHours
  /** Public holidays, local dates 'YYYY-MM-DD'; no working time on these days. */
  holidays: string[]
}

const MINUTE_MS = 60_000
const DAY_MS = 86_400_000
const WEEKDAYS = [1, 2, 3, 4, 5, 6, 7] as const

/** Freezes shared constants: a caller mutating one would silently change every SLA. */
function frozen<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) frozen(inner)
    Object.freeze(value)
  }
  return value
}

/** Every day 00:00–24:00 without holidays: working time equals wall time (tests count seconds on it). */
export const ALWAYS_OPEN: BusinessCalendar = frozen<BusinessCalendar>({
  utcOffsetMinutes: 0,
  week: {
    1: [['00:00', '24:00']],
    2: [['00:00', '24:00']],
    3: [['00:00', '24:00']],
    4: [['00:00', '24:00']],
    5: [['00:00', '24:00']],
    6: [['00:00', '24:00']],
    7: [['00:00', '24:00']],
  },
  holidays: [],
})

/**
 * Mali's public-service week: Monday to Thursday 07:30–16:00, Friday 07:30–12:30 (the afternoon is
 * left for Friday prayer), Saturday and Sunday closed. 39 working hours a week.
 */
export const MALI_WORKING_WEEK: WeekHours = frozen<WeekHours>({
  1: [['07:30', '16:00']],
  2: [['07:30', '16:00']],
  3: [['07:30', '16:00']],
  4: [['07:30', '16:00']],
  5: [['07:30', '12:30']],
})

/** The calendar of an office in Mali (Bamako time, UTC+0) with the given public holidays. */
export function maliCalendar(holidays: string[]): BusinessCalendar {
  return { utcOffsetMinutes: 0, week: MALI_WORKING_WEEK, holidays: [...holidays] }
}

/** 'HH:MM' → minutes after local midnight; '24:00' only where a period may end. */
function parseClock(value: unknown, isEnd: boolean): number | null {
  if (typeof value !== 'string') return null
  if (isEnd && value === '24:00') return 24 * 60
  const match = /^([01]\d|2[0-3]):([0-5]\d)$/.exec(value)
  return match ? Number(match[1]) * 60 + Number(match[2]) : null
}

/** 'YYYY-MM-DD' → days since 1970-01-01, or null if it is not a real calendar date. */
function parseLocalDate(value: unknown): number | null {
  if (typeof value !== 'string') return null
  const match = /^(\d{4})-(\d{2})-(\d{2})$/.exec(value)
  if (!match) return null
  const ms = Date.UTC(Number(match[1]), Number(match[2]) - 1, Number(match[3]))
  // Date.UTC rolls 31 April over to 1 May: only a round trip proves the date exists.
  if (!Number.isFinite(ms) || new Date(ms).toISOString().slice(0, 10) !== value) return null
  return ms / DAY_MS
}

/**
 * Checks a calendar before it is used or saved: offset a whole number of minutes within ±14 h,
 * weekdays 1–7, periods 'HH:MM' (end may be '24:00') that end after they start, sorted and not
 * overlapping, holidays real 'YYYY-MM-DD' dates, and at least one working period in the week (a
 * calendar without working time would never reach any deadline). Returns the problems, empty when
 * the calendar is valid.
 */
export function calendarProblems(cal: BusinessCalendar): string[] {
  const problems: string[] = []
  const offset = cal.utcOffsetMinutes
  if (!Number.isInteger(offset) || Math.abs(offset) > 14 * 60) {
    problems.push(`utcOffsetMinutes must be whole minutes between -840 and 840, got ${offset}`)
  }
  const week: Record<string, unknown> =
    typeof cal.week === 'object' && cal.week !== null ? cal.week : {}
  if (week !== cal.week) problems.push('week must be an object keyed by ISO weekday 1–7')
  for (const key of Object.keys(week)) {
    if (!/^[1-7]$/.test(key))
      problems.push(`week: '${key}' is not an ISO weekday (1 = Monday … 7 = Sunday)`)
  }
  let periodCount = 0
  for (const day of WEEKDAYS) {
    const periods: unknown = week[day] ?? []
    if (!Array.isArray(periods)) {
      problems.push(`week.${day} must be a list of ['HH:MM', 'HH:MM'] periods`)
      continue
    }
    let previousEnd = 0
    periods.forEach((period: unknown, i) => {
      const where = `week.${day}[${i}]`
      if (!Array.isArray(period) || period.length !== 2) {
        problems.push(`${where} must be a pair ['HH:MM', 'HH:MM']`)
        return
      }
      const [startText, endText]: unknown[] = period
      const start = parseClock(startText, false)
      const end = parseClock(endText, true)
      if (start === null)
        problems.push(`${where}: start ${JSON.stringify(startText)} is not 'HH:MM'`)
      if (end === null) {
        problems.push(`${where}: end ${JSON.stringify(endText)} is not 'HH:MM' or '24:00'`)
      }
      if (start === null || end === null) return
      if (end <= start) {
        problems.push(
          `${where}: ${String(startText)}–${String(endText)} does not end after it starts`,
        )
      } else if (start < previousEnd) {
        problems.push(`${where}: ${String(startText)} overlaps or precedes the previous period`)
      } else {
        periodCount += 1
        previousEnd = end
      }
    })
  }
  if (periodCount === 0) problems.push('week has no working period: deadlines would never arrive')
  if (!Array.isArray(cal.holidays)) {
    problems.push("holidays must be a list of 'YYYY-MM-DD' dates")
  } else {
    cal.holidays.forEach((date: unknown, i) => {
      if (parseLocalDate(date) === null) {
        problems.push(`holidays[${i}]: ${JSON.stringify(date)} is not a 'YYYY-MM-DD' date`)
      }
    })
  }
  return problems
}

/** A calendar in the form the arithmetic uses: everything in milliseconds of local time. */
interface CompiledCalendar {
  offsetMs: number
  /** Index 0 = Monday … 6 = Sunday → [start, end) in ms after local midnight. */
  periods: Array<Array<[number, number]>>
  weekMs: number
  /** Holidays as days since 1970-01-01 (local), sorted, unique. */
  holidayDays: number[]
  holidaySet: Set<number>
}

function compile(cal: BusinessCalendar): CompiledCalendar {
  const problems = calendarProblems(cal)
  if (problems.length > 0) throw new Error(`invalid business calendar: ${problems.join('; ')}`)
  const periods = WEEKDAYS.map((day) =>
    (cal.week[day] ?? []).map(([start, end]): [number, number] => [
      (parseClock(start, false) ?? 0) * MINUTE_MS,
      (parseClock(end, true) ?? 0) * MINUTE_MS,
    ]),
  )
  const weekMs = periods.flat().reduce((sum, [start, end]) => sum + end - start, 0)
  const holidaySet = new Set(cal.holidays.map((date) => parseLocalDate(date) ?? 0))
  return {
    offsetMs: cal.utcOffsetMinutes * MINUTE_MS,
    periods,
    weekMs,
    holidayDays: [...holidaySet].sort((a, b) => a - b),
    holidaySet,
  }
}

/** Working periods of a local day: none on a holiday. */
function periodsOn(c: CompiledCalendar, day: number): Array<[number, number]> {
  if (c.holidaySet.has(day)) return []
  // 1970-01-01 (day 0) was a Thursday, index 3 when Monday is 0.
  return c.periods[(((day + 3) % 7) + 7) % 7] ?? []
}

/** How many whole weeks from `day` on contain no holiday (the weeks that can be skipped at once). */
function holidayFreeWeeks(c: CompiledCalendar, day: number): number {
  let low = 0
  let high = c.holidayDays.length
  while (low < high) {
    const mid = (low + high) >>> 1
    if ((c.holidayDays[mid] ?? Infinity) < day) low = mid + 1
    else high = mid
  }
  const next = c.holidayDays[low]
  return next === undefined ? Infinity : Math.floor((next - day) / 7)
}

function instantOf(date: Date, name: string): number {
  const ms = date instanceof Date ? date.getTime() : NaN
  if (!Number.isFinite(ms)) throw new RangeError(`${name} is not a valid date`)
  return ms
}

function toDate(ms: number): Date {
  const date = new Date(ms)
  if (!Number.isFinite(date.getTime()))
    throw new RangeError('the result is beyond the range of dates')
  return date
}

/** True when `at` falls inside a working period (start included, end excluded) on a non-holiday. */
export function isWorkingTime(cal: BusinessCalendar, at: Date): boolean {
  const c = compile(cal)
  const local = instantOf(at, 'at') + c.offsetMs
  const day = Math.floor(local / DAY_MS)
  const sinceMidnight = local - day * DAY_MS
  return periodsOn(c, day).some(([start, end]) => start <= sinceMidnight && sinceMidnight < end)
}

/**
 * The deadline of a working-time target: the first instant at which `workingMs` of working time has
 * elapsed after `from`. Outside working time counting starts with the next working period; a target
 * that ends with a period ends at that period's close (Thursday 16:00, not Friday 07:30).
 * `workingMs = 0` gives the next working instant at or after `from`. Whole holiday-free weeks are
 * skipped at once, so a year costs no more than a week. Throws on an invalid calendar (including one
 * with no working time, which would never reach any deadline) and on a negative duration.
 */
export function addWorkingTime(cal: BusinessCalendar, from: Date, workingMs: number): Date {
  const c = compile(cal)
  const start = instantOf(from, 'from')
  if (!Number.isFinite(workingMs) || workingMs < 0) {
    throw new RangeError(`workingMs must be a finite number >= 0, got ${workingMs}`)
  }
  // Unreachable after compile(); kept because the loop below terminates only when weekMs > 0.
  if (c.weekMs <= 0) throw new Error('the business calendar has no working time')
  let remaining = workingMs
  let cursor = start + c.offsetMs
  let day = Math.floor(cursor / DAY_MS)
  for (;;) {
    const dayStart = day * DAY_MS
    if (cursor <= dayStart) {
      // Leave at least part of a week to walk, so the deadline lands inside a period.
      const weeks = Math.min(Math.ceil(remaining / c.weekMs) - 1, holidayFreeWeeks(c, day))
      if (weeks > 0) {
        remaining -= weeks * c.weekMs
        day += weeks * 7
        cursor = day * DAY_MS
        continue
      }
    }
    for (const [periodStart, periodEnd] of periodsOn(c, day)) {
      const begin = Math.max(cursor, dayStart + periodStart)
      const end = dayStart + periodEnd
      if (end <= begin) continue
      if (remaining <= end - begin) return toDate(begin + remaining - c.offsetMs)
      remaining -= end - begin
    }
    day += 1
    cursor = day * DAY_MS
  }
}

/**
 * Working milliseconds between two instants: the time an SLA clock counts. 0 if `to <= from`.
 * The inverse of addWorkingTime: `workingTimeBetween(cal, from, addWorkingTime(cal, from, ms)) === ms`.
 */
export function workingTimeBetween(cal: BusinessCalendar, from: Date, to: Date): number {
  const c = compile(cal)
  const start = instantOf(from, 'from')
  const stop = instantOf(to, 'to')
  if (stop <= start) return 0
  const end = stop + c.offsetMs
  let cursor = start + c.offsetMs
  let day = Math.floor(cursor / DAY_MS)
  let total = 0
  while (cursor < end) {
    const dayStart = day * DAY_MS
    if (cursor <= dayStart) {
      const weeks = Math.min(Math.floor((end - dayStart) / (7 * DAY_MS)), holidayFreeWeeks(c, day))
      if (weeks > 0) {
        total += weeks * c.weekMs
        day += weeks * 7
        cursor = day * DAY_MS
        continue
      }
    }
    for (const [periodStart, periodEnd] of periodsOn(c, day)) {
      const begin = Math.max(cursor, dayStart + periodStart)
      const finish = Math.min(end, dayStart + periodEnd)
      if (finish > begin) total += finish - begin
    }
    day += 1
    cursor = day * DAY_MS
  }
  return total
}
