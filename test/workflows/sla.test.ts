import { describe, expect, it } from 'vitest'
import { maliPublicHolidays } from '../../activities/db/mali-holidays'
import { ALWAYS_OPEN, maliCalendar } from '../../workflows/kernel/calendar'
import { slaEventProblem, slaStatus, type SlaClockEvent } from '../../workflows/kernel/sla'

const MINUTE = 60_000
const HOUR = 60 * MINUTE
const bamako = maliCalendar((maliPublicHolidays[2026] ?? []).map((holiday) => holiday.date))
const AT_RISK = 0.75
const status = (events: SlaClockEvent[], now: string) =>
  slaStatus(bamako, events, new Date(now), AT_RISK)

/** A grievance to resolve in 2 working days (17 h), received Monday 5 October 2026 at opening. */
const started: SlaClockEvent = {
  type: 'started',
  at: '2026-10-05T07:30:00.000Z',
  targetMs: 17 * HOUR,
}

describe('SLA clock: on track, at risk, breached', () => {
  it('is on track with the deadline on Tuesday at closing time and the at-risk point at 75 %', () => {
    // 17 h: Monday 8.5 h + Tuesday 8.5 h. 75 % = 12.75 h: Monday 8.5 h + Tuesday 07:30 + 4.25 h.
    expect(status([started], '2026-10-05T12:00:00Z')).toEqual({
      state: 'on_track',
      targetMs: 17 * HOUR,
      elapsedMs: 4.5 * HOUR,
      remainingMs: 12.5 * HOUR,
      dueAt: '2026-10-06T16:00:00.000Z',
      atRiskAt: '2026-10-06T11:45:00.000Z',
      paused: false,
      breachedAt: null,
    })
  })

  it('does not count the night', () => {
    expect(status([started], '2026-10-05T23:00:00Z')).toMatchObject({
      state: 'on_track',
      elapsedMs: 8.5 * HOUR,
      dueAt: '2026-10-06T16:00:00.000Z',
    })
  })

  it('turns at risk exactly at the threshold', () => {
    expect(status([started], '2026-10-06T11:44:59.999Z').state).toBe('on_track')
    expect(status([started], '2026-10-06T11:45:00.000Z')).toMatchObject({
      state: 'at_risk',
      elapsedMs: 12.75 * HOUR,
      atRiskAt: null,
      dueAt: '2026-10-06T16:00:00.000Z',
    })
  })

  it('is breached from the deadline on, with the instant of the breach', () => {
    expect(status([started], '2026-10-06T15:59:59.999Z').state).toBe('at_risk')
    expect(status([started], '2026-10-06T16:00:00.000Z')).toMatchObject({
      state: 'breached',
      remainingMs: 0,
      breachedAt: '2026-10-06T16:00:00.000Z',
    })
    expect(status([started], '2026-10-07T09:00:00Z')).toEqual({
      state: 'breached',
      targetMs: 17 * HOUR,
      elapsedMs: 18.5 * HOUR,
      remainingMs: -1.5 * HOUR,
      dueAt: '2026-10-06T16:00:00.000Z',
      atRiskAt: null,
      paused: false,
      breachedAt: '2026-10-06T16:00:00.000Z',
    })
  })

  it('counts seconds on ALWAYS_OPEN (what workflow tests use)', () => {
    const events: SlaClockEvent[] = [
      { type: 'started', at: '2026-10-10T23:59:55.000Z', targetMs: 10_000 },
    ]
    const at = (iso: string) => slaStatus(ALWAYS_OPEN, events, new Date(iso), AT_RISK)
    expect(at('2026-10-11T00:00:00.000Z')).toMatchObject({
      state: 'on_track',
      dueAt: '2026-10-11T00:00:05.000Z',
      atRiskAt: '2026-10-11T00:00:02.500Z',
    })
    expect(at('2026-10-11T00:00:03.000Z').state).toBe('at_risk')
    expect(at('2026-10-11T00:00:05.000Z')).toMatchObject({
      state: 'breached',
      breachedAt: '2026-10-11T00:00:05.000Z',
    })
  })
})

describe('SLA clock: pause and resume', () => {
  const paused: SlaClockEvent[] = [
    started,
    { type: 'paused', at: '2026-10-05T12:00:00.000Z', reason: 'waiting_complainant' },
  ]

  it('stops the clock while paused: no breach even long after the original deadline', () => {
    expect(status(paused, '2026-10-08T10:00:00Z')).toEqual({
      state: 'paused',
      targetMs: 17 * HOUR,
      elapsedMs: 4.5 * HOUR,
      remainingMs: 12.5 * HOUR,
      dueAt: null,
      atRiskAt: null,
      paused: true,
      pauseReason: 'waiting_complainant',
      breachedAt: null,
    })
  })

  it('keeps the remaining time on resume: the deadline moves by the paused working time', () => {
    // Resumed Thursday 14:00 with 12.5 h left: Thu 2 h + Fri 5 h + Mon 07:30 + 5.5 h = Mon 13:00.
    const resumed: SlaClockEvent[] = [
      ...paused,
      { type: 'resumed', at: '2026-10-08T14:00:00.000Z' },
    ]
    expect(status(resumed, '2026-10-08T14:00:00Z')).toEqual({
      state: 'on_track',
      targetMs: 17 * HOUR,
      elapsedMs: 4.5 * HOUR,
      remainingMs: 12.5 * HOUR,
      dueAt: '2026-10-12T13:00:00.000Z',
      atRiskAt: '2026-10-12T08:45:00.000Z',
      paused: false,
      breachedAt: null,
    })
    expect(status(resumed, '2026-10-12T13:00:00Z')).toMatchObject({
      state: 'breached',
      breachedAt: '2026-10-12T13:00:00.000Z',
    })
  })

  it('reports paused, not at risk, when paused after the at-risk point', () => {
    const events: SlaClockEvent[] = [
      started,
      { type: 'paused', at: '2026-10-06T12:00:00.000Z', reason: 'waiting_partner' },
    ]
    expect(status(events, '2026-10-06T12:00:00Z').state).toBe('paused')
    expect(status(events, '2026-10-06T11:59:00Z').state).toBe('at_risk')
  })

  it('reports breached when paused after the breach', () => {
    const events: SlaClockEvent[] = [
      started,
      { type: 'paused', at: '2026-10-07T09:00:00.000Z', reason: 'access_impossible' },
    ]
    expect(status(events, '2026-10-20T09:00:00Z')).toEqual({
      state: 'breached',
      targetMs: 17 * HOUR,
      elapsedMs: 18.5 * HOUR,
      remainingMs: -1.5 * HOUR,
      dueAt: null,
      atRiskAt: null,
      paused: true,
      pauseReason: 'access_impossible',
      breachedAt: '2026-10-06T16:00:00.000Z',
    })
  })

  it('loses nothing when paused and resumed outside working hours', () => {
    const events: SlaClockEvent[] = [
      started,
      { type: 'paused', at: '2026-10-05T18:00:00.000Z', reason: 'waiting_complainant' },
      { type: 'resumed', at: '2026-10-06T06:00:00.000Z' },
    ]
    expect(status(events, '2026-10-06T09:00:00Z')).toEqual(
      status([started], '2026-10-06T09:00:00Z'),
    )
  })
})

describe('SLA clock: extension', () => {
  it('moves the deadline by the granted working time', () => {
    const events: SlaClockEvent[] = [
      started,
      {
        type: 'extended',
        at: '2026-10-06T10:00:00.000Z',
        byMs: 8.5 * HOUR,
        reason: 'partner_delay',
      },
    ]
    expect(status([started], '2026-10-06T10:00:00Z').dueAt).toBe('2026-10-06T16:00:00.000Z')
    // 25.5 h; 75 % = 19.125 h = Mon 8.5 h + Tue 8.5 h + Wed 07:30 + 2 h 07 min 30 s.
    expect(status(events, '2026-10-06T10:00:00Z')).toEqual({
      state: 'on_track',
      targetMs: 25.5 * HOUR,
      elapsedMs: 11 * HOUR,
      remainingMs: 14.5 * HOUR,
      dueAt: '2026-10-07T16:00:00.000Z',
      atRiskAt: '2026-10-07T09:37:30.000Z',
      paused: false,
      breachedAt: null,
    })
  })

  it('gives a breached stage a new deadline when granted after the breach', () => {
    const events: SlaClockEvent[] = [
      started,
      {
        type: 'extended',
        at: '2026-10-07T09:00:00.000Z',
        byMs: 17 * HOUR,
        reason: 'partner_delay',
      },
    ]
    expect(status(events, '2026-10-07T09:00:00Z')).toMatchObject({
      state: 'on_track',
      remainingMs: 15.5 * HOUR,
      dueAt: '2026-10-08T16:00:00.000Z',
      breachedAt: null,
    })
    // The breach before the grant is still visible by recomputing at that time.
    expect(status(events, '2026-10-07T08:59:00Z')).toMatchObject({
      state: 'breached',
      breachedAt: '2026-10-06T16:00:00.000Z',
    })
  })
})

describe('SLA clock: stop', () => {
  it('is met when stopped before the deadline, and stays met', () => {
    const events: SlaClockEvent[] = [started, { type: 'stopped', at: '2026-10-06T15:00:00.000Z' }]
    const expected = {
      state: 'met',
      targetMs: 17 * HOUR,
      elapsedMs: 16 * HOUR,
      remainingMs: HOUR,
      dueAt: null,
      atRiskAt: null,
      paused: false,
      breachedAt: null,
    }
    expect(status(events, '2026-10-06T15:00:00Z')).toEqual(expected)
    expect(status(events, '2027-01-15T10:00:00Z')).toEqual(expected)
  })

  it('stays breached when stopped after the deadline', () => {
    const events: SlaClockEvent[] = [started, { type: 'stopped', at: '2026-10-07T09:00:00.000Z' }]
    expect(status(events, '2026-11-02T10:00:00Z')).toEqual({
      state: 'breached',
      targetMs: 17 * HOUR,
      elapsedMs: 18.5 * HOUR,
      remainingMs: -1.5 * HOUR,
      dueAt: null,
      atRiskAt: null,
      paused: false,
      breachedAt: '2026-10-06T16:00:00.000Z',
    })
  })

  it('freezes the count at the pause when stopped while paused', () => {
    const events: SlaClockEvent[] = [
      started,
      { type: 'paused', at: '2026-10-05T12:00:00.000Z', reason: 'waiting_complainant' },
      { type: 'stopped', at: '2026-10-20T10:00:00.000Z' },
    ]
    expect(status(events, '2026-10-21T10:00:00Z')).toMatchObject({
      state: 'met',
      elapsedMs: 4.5 * HOUR,
      paused: false,
    })
  })
})

describe('SLA clock: recomputable from its events', () => {
  const events: SlaClockEvent[] = [
    started,
    { type: 'paused', at: '2026-10-05T12:00:00.000Z', reason: 'waiting_complainant' },
    { type: 'resumed', at: '2026-10-08T14:00:00.000Z' },
    { type: 'extended', at: '2026-10-09T09:00:00.000Z', byMs: 8.5 * HOUR, reason: 'partner_delay' },
    { type: 'stopped', at: '2026-10-13T10:00:00.000Z' },
  ]

  it('gives the same status for the same events and instant, after a JSON round trip', () => {
    const first = status(events, '2026-10-12T09:00:00Z')
    const again = status(
      JSON.parse(JSON.stringify(events)) as SlaClockEvent[],
      '2026-10-12T09:00:00Z',
    )
    expect(again).toEqual(first)
    // Resumed with 12.5 h left, +8.5 h extension: Thu 2 h + Fri 5 h + Mon 8.5 h + Tue 07:30 + 5.5 h.
    expect(first).toMatchObject({ state: 'on_track', dueAt: '2026-10-13T13:00:00.000Z' })
    expect(status(events, '2026-10-13T12:00:00Z')).toMatchObject({
      state: 'met',
      elapsedMs: 4.5 * HOUR + 2 * HOUR + 5 * HOUR + 8.5 * HOUR + 2.5 * HOUR,
    })
  })

  it('ignores events after now: the status at any past instant is the status from the prefix', () => {
    for (let n = 1; n <= events.length; n++) {
      const now = events[n - 1]?.at ?? ''
      expect(status(events, now)).toEqual(status(events.slice(0, n), now))
    }
  })

  it('refuses an invalid log and a clock not started yet', () => {
    const twicePaused: SlaClockEvent[] = [
      started,
      { type: 'paused', at: '2026-10-05T12:00:00.000Z', reason: 'waiting_partner' },
      { type: 'paused', at: '2026-10-05T13:00:00.000Z', reason: 'waiting_partner' },
    ]
    expect(() => status(twicePaused, '2026-10-06T10:00:00Z')).toThrow(/SLA_ALREADY_PAUSED/)
    expect(() => status([started], '2026-10-05T07:00:00Z')).toThrow(/SLA_NOT_STARTED/)
    expect(() => status([], '2026-10-05T07:00:00Z')).toThrow(/SLA_NOT_STARTED/)
  })
})

describe('slaEventProblem', () => {
  const pause = (at: string): SlaClockEvent => ({ type: 'paused', at, reason: 'waiting_partner' })
  const running = [started]
  const pausedClock = [...running, pause('2026-10-05T12:00:00.000Z')]
  const stopped: SlaClockEvent[] = [...running, { type: 'stopped', at: '2026-10-05T12:00:00.000Z' }]

  it('accepts a valid sequence', () => {
    expect(slaEventProblem([], started)).toBeNull()
    expect(slaEventProblem(running, pause('2026-10-05T12:00:00.000Z'))).toBeNull()
    expect(
      slaEventProblem(pausedClock, { type: 'resumed', at: '2026-10-05T12:00:00.000Z' }),
    ).toBeNull()
    expect(
      slaEventProblem(pausedClock, {
        type: 'extended',
        at: '2026-10-06T08:00:00.000Z',
        byMs: HOUR,
        reason: 'supervisor_grant',
      }),
    ).toBeNull()
    expect(
      slaEventProblem(pausedClock, { type: 'stopped', at: '2026-10-06T08:00:00.000Z' }),
    ).toBeNull()
  })

  it.each<[string, SlaClockEvent[], SlaClockEvent, string]>([
    ['a pause before the start', [], pause('2026-10-05T12:00:00.000Z'), 'SLA_NOT_STARTED'],
    ['a second start', running, started, 'SLA_ALREADY_STARTED'],
    ['a pause when paused', pausedClock, pause('2026-10-05T13:00:00.000Z'), 'SLA_ALREADY_PAUSED'],
    [
      'a resume when running',
      running,
      { type: 'resumed', at: '2026-10-05T13:00:00.000Z' },
      'SLA_NOT_PAUSED',
    ],
    ['a pause after stop', stopped, pause('2026-10-05T13:00:00.000Z'), 'SLA_STOPPED'],
    ['a second stop', stopped, { type: 'stopped', at: '2026-10-05T13:00:00.000Z' }, 'SLA_STOPPED'],
    [
      'an extension after stop',
      stopped,
      { type: 'extended', at: '2026-10-05T13:00:00.000Z', byMs: HOUR, reason: 'late_grant' },
      'SLA_STOPPED',
    ],
    [
      'an extension of 0',
      running,
      { type: 'extended', at: '2026-10-05T13:00:00.000Z', byMs: 0, reason: 'late_grant' },
      'SLA_INVALID_EXTENSION',
    ],
    [
      'a negative extension',
      running,
      { type: 'extended', at: '2026-10-05T13:00:00.000Z', byMs: -HOUR, reason: 'late_grant' },
      'SLA_INVALID_EXTENSION',
    ],
    [
      'an extension without a reason',
      running,
      { type: 'extended', at: '2026-10-05T13:00:00.000Z', byMs: HOUR, reason: ' ' },
      'SLA_INVALID_EXTENSION',
    ],
    [
      'an event back in time',
      pausedClock,
      { type: 'resumed', at: '2026-10-05T11:59:59.999Z' },
      'SLA_OUT_OF_ORDER',
    ],
    ['an instant without a zone', running, pause('2026-10-05T12:00:00'), 'SLA_INVALID_EVENT'],
    [
      'a zero target',
      [],
      { type: 'started', at: '2026-10-05T07:30:00.000Z', targetMs: 0 },
      'SLA_INVALID_EVENT',
    ],
    [
      'a pause without a reason',
      running,
      { type: 'paused', at: '2026-10-05T13:00:00.000Z', reason: '' },
      'SLA_INVALID_EVENT',
    ],
  ])('refuses %s', (_name, events, next, code) => {
    expect(slaEventProblem(events, next)).toBe(code)
  })
})
