import { describe, expect, it } from 'vitest'
import { maliPublicHolidays } from '../../activities/db/mali-holidays'
import {
  addWorkingTime,
  ALWAYS_OPEN,
  type BusinessCalendar,
  calendarProblems,
  isWorkingTime,
  maliCalendar,
  MALI_WORKING_WEEK,
  workingTimeBetween,
} from '../../workflows/kernel/calendar'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
/** A Monday-to-Thursday working day in Mali: 07:30–16:00. */
const WORKING_DAY = 8.5 * HOUR
const WEEK = 39 * HOUR

const holidayDates = [2025, 2026, 2027].flatMap((year) =>
  (maliPublicHolidays[year] ?? []).map((holiday) => holiday.date),
)
const bamako = maliCalendar(holidayDates)
const noHolidays = maliCalendar([])
const at = (iso: string) => new Date(iso)
const iso = (date: Date) => date.toISOString()

/** Small seeded PRNG (mulberry32): the property runs are random but reproducible. */
function prng(seed: number): () => number {
  let state = seed >>> 0
  return () => {
    state = (state + 0x6d2b79f5) >>> 0
    let t = state
    t = Math.imul(t ^ (t >>> 15), t | 1)
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61)
    return ((t ^ (t >>> 14)) >>> 0) / 4_294_967_296
  }
}

/** Working ms of the Mali week counted the slow, obvious way (independent of the week skipping). */
function referenceWorkingMs(from: number, to: number, holidays: string[]): number {
  let total = 0
  for (let day = Math.floor(from / 86_400_000) * 86_400_000; day < to; day += 86_400_000) {
    const date = new Date(day)
    if (holidays.includes(date.toISOString().slice(0, 10))) continue
    const weekday = date.getUTCDay() // 0 = Sunday
    if (weekday === 0 || weekday === 6) continue
    const open = day + 7.5 * HOUR
    const close = day + (weekday === 5 ? 12.5 : 16) * HOUR
    total += Math.max(0, Math.min(close, to) - Math.max(open, from))
  }
  return total
}

describe('Mali working week', () => {
  it('is open Monday to Thursday 07:30–16:00, Friday 07:30–12:30, closed at the weekend', () => {
    expect(MALI_WORKING_WEEK).toEqual({
      1: [['07:30', '16:00']],
      2: [['07:30', '16:00']],
      3: [['07:30', '16:00']],
      4: [['07:30', '16:00']],
      5: [['07:30', '12:30']],
    })
    expect(isWorkingTime(bamako, at('2026-10-12T07:29:59.999Z'))).toBe(false)
    expect(isWorkingTime(bamako, at('2026-10-12T07:30:00.000Z'))).toBe(true)
    expect(isWorkingTime(bamako, at('2026-10-15T15:59:59.999Z'))).toBe(true)
    expect(isWorkingTime(bamako, at('2026-10-15T16:00:00.000Z'))).toBe(false)
    expect(isWorkingTime(bamako, at('2026-10-17T10:00:00.000Z'))).toBe(false) // Saturday
    expect(isWorkingTime(bamako, at('2026-10-18T10:00:00.000Z'))).toBe(false) // Sunday
  })

  it('closes on Friday at 12:30 for Friday prayer', () => {
    expect(isWorkingTime(bamako, at('2026-10-16T12:29:59.999Z'))).toBe(true)
    expect(isWorkingTime(bamako, at('2026-10-16T12:30:00.000Z'))).toBe(false)
    expect(isWorkingTime(bamako, at('2026-10-16T14:00:00.000Z'))).toBe(false)
    // Two hours from Friday 11:30: one before the prayer, the other on Monday morning.
    expect(iso(addWorkingTime(bamako, at('2026-10-16T11:30:00Z'), 2 * HOUR))).toBe(
      '2026-10-19T08:30:00.000Z',
    )
    expect(workingTimeBetween(bamako, at('2026-10-16T12:00:00Z'), at('2026-10-16T18:00:00Z'))).toBe(
      30 * MINUTE,
    )
  })

  it('has no working time on public holidays (Independence Day, Tabaski)', () => {
    expect(isWorkingTime(bamako, at('2026-09-22T10:00:00Z'))).toBe(false)
    expect(isWorkingTime(bamako, at('2026-05-27T10:00:00Z'))).toBe(false)
    expect(isWorkingTime(noHolidays, at('2026-09-22T10:00:00Z'))).toBe(true)
    expect(workingTimeBetween(bamako, at('2026-09-22T00:00:00Z'), at('2026-09-23T00:00:00Z'))).toBe(
      0,
    )
  })
})

describe('addWorkingTime', () => {
  it('puts 2 working days from Thursday afternoon on the next Tuesday, across the weekend', () => {
    // Thu 14:00–16:00 (2 h) + Fri 07:30–12:30 (5 h) + Mon (8.5 h) + Tue 07:30–09:00 (1.5 h) = 17 h.
    const due = addWorkingTime(bamako, at('2026-10-15T14:00:00Z'), 2 * WORKING_DAY)
    expect(iso(due)).toBe('2026-10-20T09:00:00.000Z')
  })

  it('skips Independence Day (Tuesday 22 September 2026)', () => {
    // Mon 14:00–16:00 (2 h), Tue is a holiday, Wed 07:30–09:30 (2 h).
    const from = at('2026-09-21T14:00:00Z')
    expect(iso(addWorkingTime(bamako, from, 4 * HOUR))).toBe('2026-09-23T09:30:00.000Z')
    expect(iso(addWorkingTime(noHolidays, from, 4 * HOUR))).toBe('2026-09-22T09:30:00.000Z')
  })

  it('starts counting a complaint received on Monday at 20:00 on Tuesday at 07:30', () => {
    const received = at('2026-10-12T20:00:00Z')
    expect(isWorkingTime(bamako, received)).toBe(false)
    expect(iso(addWorkingTime(bamako, received, 0))).toBe('2026-10-13T07:30:00.000Z')
    expect(iso(addWorkingTime(bamako, received, HOUR))).toBe('2026-10-13T08:30:00.000Z')
    expect(workingTimeBetween(bamako, received, at('2026-10-13T07:30:00Z'))).toBe(0)
    expect(workingTimeBetween(bamako, received, at('2026-10-13T08:00:00Z'))).toBe(30 * MINUTE)
  })

  it('returns the instant itself for a zero duration inside working time', () => {
    expect(iso(addWorkingTime(bamako, at('2026-10-13T10:17:42.123Z'), 0))).toBe(
      '2026-10-13T10:17:42.123Z',
    )
  })

  it('ends a target that uses up a day at that day’s close, not the next morning', () => {
    expect(iso(addWorkingTime(bamako, at('2026-10-15T07:30:00Z'), WORKING_DAY))).toBe(
      '2026-10-15T16:00:00.000Z',
    )
    // A whole Mali week from Monday morning ends at Friday's prayer closing.
    expect(iso(addWorkingTime(bamako, at('2026-10-12T07:30:00Z'), WEEK))).toBe(
      '2026-10-16T12:30:00.000Z',
    )
  })

  it('counts 30 working days (255 working hours) from Monday 2 November 2026', () => {
    // Six full weeks (234 h) reach Monday 14 December 07:30; Mon 8.5 h + Tue 8.5 h + Wed 4 h.
    const from = at('2026-11-02T07:30:00Z')
    const due = addWorkingTime(bamako, from, 30 * WORKING_DAY)
    expect(iso(due)).toBe('2026-12-16T11:30:00.000Z')
    expect(workingTimeBetween(bamako, from, due)).toBe(30 * WORKING_DAY)
  })

  it('skips whole weeks but not the holidays inside them', () => {
    // Six Mali weeks from Monday 7 September 2026 would end Friday 16 October 12:30; Independence
    // Day costs a full 8.5 h day, which moves the end to Monday 19 October at closing time.
    const from = at('2026-09-07T07:30:00Z')
    expect(iso(addWorkingTime(noHolidays, from, 6 * WEEK))).toBe('2026-10-16T12:30:00.000Z')
    expect(iso(addWorkingTime(bamako, from, 6 * WEEK))).toBe('2026-10-19T16:00:00.000Z')
  })

  it('handles a year of working time and ten years of wall time without stepping minute by minute', () => {
    expect(iso(addWorkingTime(noHolidays, at('2026-01-05T07:30:00Z'), 52 * WEEK))).toBe(
      '2027-01-01T12:30:00.000Z',
    )
    const from = at('2026-01-01T00:00:00Z')
    const tenYears = 3652 * 24 * HOUR
    expect(iso(addWorkingTime(ALWAYS_OPEN, from, tenYears))).toBe('2036-01-01T00:00:00.000Z')
    expect(workingTimeBetween(ALWAYS_OPEN, from, at('2036-01-01T00:00:00Z'))).toBe(tenYears)
  })

  it('refuses a calendar without working time instead of looping forever', () => {
    const closed: BusinessCalendar = { utcOffsetMinutes: 0, week: {}, holidays: [] }
    expect(() => addWorkingTime(closed, at('2026-10-12T08:00:00Z'), HOUR)).toThrow(
      /no working period/,
    )
  })

  it('refuses a negative duration and an invalid date', () => {
    expect(() => addWorkingTime(bamako, at('2026-10-12T08:00:00Z'), -1)).toThrow(RangeError)
    expect(() => addWorkingTime(bamako, new Date(NaN), HOUR)).toThrow(RangeError)
  })
})

describe('workingTimeBetween', () => {
  it('counts only working hours, 0 when to <= from', () => {
    // Thursday 14:00 to next Tuesday 09:00: 2 + 5 + 8.5 + 1.5 = 17 h.
    expect(workingTimeBetween(bamako, at('2026-10-15T14:00:00Z'), at('2026-10-20T09:00:00Z'))).toBe(
      17 * HOUR,
    )
    expect(workingTimeBetween(bamako, at('2026-10-20T09:00:00Z'), at('2026-10-15T14:00:00Z'))).toBe(
      0,
    )
    expect(workingTimeBetween(bamako, at('2026-10-15T14:00:00Z'), at('2026-10-15T14:00:00Z'))).toBe(
      0,
    )
  })

  it('agrees with a day-by-day count over random spans of up to four months (seeded)', () => {
    const random = prng(20260922)
    const base = Date.parse('2025-01-01T00:00:00Z')
    for (let i = 0; i < 300; i++) {
      const from = base + Math.floor(random() * 2.9 * 365 * 24) * HOUR + Math.floor(random() * HOUR)
      const to = from + Math.floor(random() * 120 * 24 * HOUR)
      expect(workingTimeBetween(bamako, new Date(from), new Date(to))).toBe(
        referenceWorkingMs(from, to, holidayDates),
      )
    }
  })

  it('is the inverse of addWorkingTime (seeded random starts and durations)', () => {
    const random = prng(1960)
    const base = Date.parse('2025-01-01T00:00:00Z')
    for (let i = 0; i < 500; i++) {
      const from = new Date(base + Math.floor(random() * 2.9 * 365 * 24 * HOUR))
      const duration = Math.floor(random() * 400 * HOUR)
      const due = addWorkingTime(bamako, from, duration)
      expect(workingTimeBetween(bamako, from, due)).toBe(duration)
      if (duration > 0) expect(isWorkingTime(bamako, new Date(due.getTime() - 1))).toBe(true)

      const more = 1 + Math.floor(random() * 40 * HOUR)
      expect(addWorkingTime(bamako, due, more).getTime()).toBe(
        addWorkingTime(bamako, from, duration + more).getTime(),
      )

      const to = new Date(from.getTime() + Math.floor(random() * 60 * 24 * HOUR))
      const worked = workingTimeBetween(bamako, from, to)
      // With nothing worked, addWorkingTime gives the next working instant, which may be after `to`.
      if (worked === 0) continue
      const back = addWorkingTime(bamako, from, worked)
      expect(back.getTime()).toBeLessThanOrEqual(to.getTime())
      expect(workingTimeBetween(bamako, back, to)).toBe(0)
      if (isWorkingTime(bamako, new Date(to.getTime() - 1)))
        expect(back.getTime()).toBe(to.getTime())
    }
  })
})

describe('ALWAYS_OPEN', () => {
  it('counts wall time, to the second', () => {
    const from = at('2026-10-17T23:59:50Z') // a Saturday night, across midnight
    expect(iso(addWorkingTime(ALWAYS_OPEN, from, 90_000))).toBe('2026-10-18T00:01:20.000Z')
    expect(isWorkingTime(ALWAYS_OPEN, from)).toBe(true)
    const random = prng(42)
    for (let i = 0; i < 100; i++) {
      const a = Date.parse('2026-01-01T00:00:00Z') + Math.floor(random() * 1e10)
      const b = a + Math.floor(random() * 1e9)
      expect(workingTimeBetween(ALWAYS_OPEN, new Date(a), new Date(b))).toBe(b - a)
      expect(addWorkingTime(ALWAYS_OPEN, new Date(a), b - a).getTime()).toBe(b)
    }
  })

  it('cannot be changed by a caller', () => {
    expect(() => ALWAYS_OPEN.holidays.push('2026-09-22')).toThrow(TypeError)
    expect(ALWAYS_OPEN.holidays).toEqual([])
  })
})

describe('utcOffsetMinutes', () => {
  it('reads working hours and holidays in local time', () => {
    // An office one hour ahead of UTC: Monday 07:30 local is 06:30 UTC.
    const utcPlusOne: BusinessCalendar = { ...noHolidays, utcOffsetMinutes: 60 }
    expect(isWorkingTime(utcPlusOne, at('2026-10-12T06:29:00Z'))).toBe(false)
    expect(iso(addWorkingTime(utcPlusOne, at('2026-10-12T05:00:00Z'), 0))).toBe(
      '2026-10-12T06:30:00.000Z',
    )
    const holiday: BusinessCalendar = {
      utcOffsetMinutes: 60,
      week: ALWAYS_OPEN.week,
      holidays: ['2026-09-22'],
    }
    expect(isWorkingTime(holiday, at('2026-09-21T22:59:59Z'))).toBe(true)
    expect(isWorkingTime(holiday, at('2026-09-21T23:00:00Z'))).toBe(false)
    expect(isWorkingTime(holiday, at('2026-09-22T23:00:00Z'))).toBe(true)
  })
})

describe('calendarProblems', () => {
  it('accepts the Mali calendar with the 2025–2027 holidays', () => {
    expect(calendarProblems(bamako)).toEqual([])
    expect(calendarProblems(ALWAYS_OPEN)).toEqual([])
  })

  it('reports each malformed part', () => {
    const problems = calendarProblems({
      utcOffsetMinutes: 0.5,
      week: {
        1: [['7:30', '16:00']],
        2: [['07:30', '25:00']],
        3: [['16:00', '07:30']],
        4: [
          ['12:00', '16:00'],
          ['07:30', '12:00'],
        ],
        5: [
          ['07:30', '12:30'],
          ['12:00', '14:00'],
        ],
        6: [['24:00', '24:00']],
      },
      holidays: ['2026-02-30', '22/09/2026'],
    })
    expect(problems).toEqual([
      'utcOffsetMinutes must be whole minutes between -840 and 840, got 0.5',
      `week.1[0]: start "7:30" is not 'HH:MM'`,
      `week.2[0]: end "25:00" is not 'HH:MM' or '24:00'`,
      'week.3[0]: 16:00–07:30 does not end after it starts',
      'week.4[1]: 07:30 overlaps or precedes the previous period',
      'week.5[1]: 12:00 overlaps or precedes the previous period',
      `week.6[0]: start "24:00" is not 'HH:MM'`,
      `holidays[0]: "2026-02-30" is not a 'YYYY-MM-DD' date`,
      `holidays[1]: "22/09/2026" is not a 'YYYY-MM-DD' date`,
    ])
  })

  it('requires at least one working period in the week', () => {
    expect(calendarProblems({ utcOffsetMinutes: 0, week: {}, holidays: [] })).toEqual([
      'week has no working period: deadlines would never arrive',
    ])
  })

  it('refuses an unknown weekday key', () => {
    const week = { ...MALI_WORKING_WEEK, 8: [['07:30', '16:00']] } as BusinessCalendar['week']
    expect(calendarProblems({ utcOffsetMinutes: 0, week, holidays: [] })).toEqual([
      "week: '8' is not an ISO weekday (1 = Monday … 7 = Sunday)",
    ])
  })
})
