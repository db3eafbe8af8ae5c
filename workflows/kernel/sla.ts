import { addWorkingTime, workingTimeBetween, type BusinessCalendar } from './calendar'

/**
 * The SLA clock of one stage (acknowledge, resolve, a task), kept as an append-only list of events
 * and recomputed from them: the status is never stored, so it can always be explained and audited.
 */
export type SlaClockEvent =
  | { type: 'started'; at: string; targetMs: number } // ISO instant; target in WORKING milliseconds
  | { type: 'paused'; at: string; reason: string } // reason code e.g. 'waiting_complainant', 'waiting_partner', 'access_impossible'
  | { type: 'resumed'; at: string }
  | { type: 'extended'; at: string; byMs: number; reason: string } // working ms added to the target (supervisor grant)
  | { type: 'stopped'; at: string } // the stage was completed

export type SlaState = 'on_track' | 'at_risk' | 'breached' | 'paused' | 'met'

export interface SlaStatus {
  state: SlaState
  /** Initial target + extensions, in working ms. */
  targetMs: number
  /** Working ms counted so far (paused spans excluded). */
  elapsedMs: number
  /** targetMs - elapsedMs (negative once breached). */
  remainingMs: number
  /** ISO; null while paused or once stopped. */
  dueAt: string | null
  /** ISO instant at which elapsed reaches atRiskRatio × targetMs; null while paused/stopped or if already past. */
  atRiskAt: string | null
  paused: boolean
  pauseReason?: string
  /** ISO instant at which elapsed reached targetMs (null if not yet); stays set after stop. */
  breachedAt: string | null
}

/** Why an SLA event is refused; the API maps these to 409/422. */
export type SlaEventProblem =
  | 'SLA_ALREADY_PAUSED'
  | 'SLA_NOT_PAUSED'
  | 'SLA_STOPPED'
  | 'SLA_INVALID_EXTENSION'
  | 'SLA_NOT_STARTED'
  | 'SLA_OUT_OF_ORDER'
  | 'SLA_ALREADY_STARTED'
  | 'SLA_INVALID_EVENT'

interface ClockFold {
  stopped: boolean
  paused: boolean
  lastAt: number
}

// An instant must carry its zone: without one, Date.parse reads the host's local time.
const ISO_INSTANT = /^\d{4}-\d{2}-\d{2}T\d{2}:\d{2}(:\d{2}(\.\d{1,3})?)?(Z|[+-]\d{2}:\d{2})$/

function instantOf(at: unknown): number {
  return typeof at === 'string' && ISO_INSTANT.test(at) ? Date.parse(at) : NaN
}

function isPositiveMs(value: unknown): value is number {
  return typeof value === 'number' && Number.isSafeInteger(value) && value > 0
}

function isReason(value: unknown): boolean {
  return typeof value === 'string' && value.trim() !== ''
}

/** The problem with appending `next` to a clock in state `fold` (null = not started yet). */
function problemWith(fold: ClockFold | null, next: SlaClockEvent): SlaEventProblem | null {
  const at = instantOf(next.at)
  if (!Number.isFinite(at)) return 'SLA_INVALID_EVENT'
  switch (next.type) {
    case 'started':
      if (!isPositiveMs(next.targetMs)) return 'SLA_INVALID_EVENT'
      break
    case 'paused':
      if (!isReason(next.reason)) return 'SLA_INVALID_EVENT'
      break
    case 'extended':
      if (!isPositiveMs(next.byMs) || !isReason(next.reason)) return 'SLA_INVALID_EXTENSION'
      break
    case 'resumed':
    case 'stopped':
      break
    default:
      return 'SLA_INVALID_EVENT'
  }
  if (fold === null) return next.type === 'started' ? null : 'SLA_NOT_STARTED'
  if (fold.stopped) return 'SLA_STOPPED'
  if (next.type === 'started') return 'SLA_ALREADY_STARTED'
  if (at < fold.lastAt) return 'SLA_OUT_OF_ORDER'
  if (next.type === 'paused' && fold.paused) return 'SLA_ALREADY_PAUSED'
  if (next.type === 'resumed' && !fold.paused) return 'SLA_NOT_PAUSED'
  return null
}

function foldWith(fold: ClockFold | null, next: SlaClockEvent): ClockFold {
  return {
    stopped: (fold?.stopped ?? false) || next.type === 'stopped',
    paused:
      next.type === 'paused' ? true : next.type === 'resumed' ? false : (fold?.paused ?? false),
    lastAt: instantOf(next.at),
  }
}

/**
 * Validates an event before it is appended: the clock must be started first and only once,
 * nothing follows a stop, a pause needs a reason and a running clock, a resume a paused one, an
 * extension a whole positive number of working ms and a reason, and events never go back in time
 * (equal instants are allowed). Returns the refusal code, or null when the event may be appended.
 */
export function slaEventProblem(
  events: SlaClockEvent[],
  next: SlaClockEvent,
): SlaEventProblem | null {
  let fold: ClockFold | null = null
  for (const event of events) fold = foldWith(fold, event)
  return problemWith(fold, next)
}

function iso(ms: number | null): string | null {
  return ms === null ? null : new Date(ms).toISOString()
}

/**
 * The status of an SLA clock at `now`, recomputed from its events alone (same events + now → same
 * status). Only working time on `cal` counts, and none while paused; a resume keeps the remaining
 * time, so the deadline moves by the paused working time; an extension adds to the target and moves
 * the deadline. At risk once `atRiskRatio` (e.g. 0.75) of the target has elapsed, breached once all
 * of it has. While paused the state is 'paused', or 'breached' if the target was already used up;
 * once stopped it is 'met' if stopped before the target was reached, 'breached' otherwise.
 * Events after `now` are ignored, so passing an earlier `now` gives the status as it was then.
 * Throws if the events themselves are invalid (they are validated by slaEventProblem on append) or
 * if the clock had not started by `now`.
 */
export function slaStatus(
  cal: BusinessCalendar,
  events: SlaClockEvent[],
  now: Date,
  atRiskRatio: number,
): SlaStatus {
  const nowMs = now instanceof Date ? now.getTime() : NaN
  if (!Number.isFinite(nowMs)) throw new RangeError('now is not a valid date')
  if (!(atRiskRatio >= 0 && atRiskRatio <= 1)) {
    throw new RangeError(`atRiskRatio must be between 0 and 1, got ${atRiskRatio}`)
  }
  let fold: ClockFold | null = null
  let asOfNow: ClockFold | null = null
  let targetMs = 0
  let runningSince: number | null = null
  let pauseReason: string | undefined
  const runningSpans: Array<[number, number]> = []
  for (const [index, event] of events.entries()) {
    const problem = problemWith(fold, event)
    if (problem !== null) throw new Error(`invalid SLA event log: event ${index} is ${problem}`)
    fold = foldWith(fold, event)
    if (fold.lastAt > nowMs) continue
    asOfNow = fold
    const at = fold.lastAt
    switch (event.type) {
      case 'started':
        targetMs = event.targetMs
        runningSince = at
        break
      case 'paused':
      case 'stopped':
        if (runningSince !== null) runningSpans.push([runningSince, at])
        runningSince = null
        pauseReason = event.type === 'paused' ? event.reason : undefined
        break
      case 'resumed':
        runningSince = at
        pauseReason = undefined
        break
      case 'extended':
        targetMs += event.byMs
        break
    }
  }
  if (asOfNow === null) throw new Error('SLA_NOT_STARTED: the clock had not started by now')
  if (runningSince !== null) runningSpans.push([runningSince, nowMs])
  const stopped = asOfNow.stopped
  const paused = !stopped && runningSince === null

  let elapsedMs = 0
  let breachedAt: number | null = null
  for (const [from, to] of runningSpans) {
    const worked = workingTimeBetween(cal, new Date(from), new Date(to))
    // Until the breach elapsed < target, so the time left in this span is positive.
    if (breachedAt === null && elapsedMs + worked >= targetMs) {
      breachedAt = addWorkingTime(cal, new Date(from), targetMs - elapsedMs).getTime()
    }
    elapsedMs += worked
  }

  const remainingMs = targetMs - elapsedMs
  const breached = remainingMs <= 0
  const atRiskMs = Math.round(atRiskRatio * targetMs)
  const running = !stopped && !paused
  // A breach outranks everything: once the target is used up no pause or stop can hide it.
  const state: SlaState = breached
    ? 'breached'
    : stopped
      ? 'met'
      : paused
        ? 'paused'
        : elapsedMs >= atRiskMs
          ? 'at_risk'
          : 'on_track'
  const dueAt = !running
    ? null
    : breached
      ? breachedAt
      : addWorkingTime(cal, now, remainingMs).getTime()
  const atRiskAt =
    running && elapsedMs < atRiskMs
      ? addWorkingTime(cal, now, atRiskMs - elapsedMs).getTime()
      : null
  return {
    state,
    targetMs,
    elapsedMs,
    remainingMs,
    dueAt: iso(dueAt),
    atRiskAt: iso(atRiskAt),
    paused,
    ...(paused && pauseReason !== undefined ? { pauseReason } : {}),
    breachedAt: iso(breachedAt),
  }
}
