import type { Db } from '../activities/db/db'
import { visibleCases } from './access'
import type { AuthUser } from './auth/types'

/** What a case id looks like (`G-1a2b…`, `RV-G-…`, `AM-…`): the strings worth looking up. */
const CASE_ID = /^[A-Za-z0-9][A-Za-z0-9-]{0,99}$/

/** Timeline events that exist only to name another case: dropped when that case is hidden. */
const LINK_EVENTS = new Set(['case.linked', 'case.spawned'])

/** Every string in `value` that could be a case id, once. */
export function candidateIds(value: unknown, into = new Set<string>()): Set<string> {
  if (typeof value === 'string') {
    if (CASE_ID.test(value)) into.add(value)
  } else if (Array.isArray(value)) {
    for (const v of value) candidateIds(v, into)
  } else if (value && typeof value === 'object') {
    for (const v of Object.values(value)) candidateIds(v, into)
  }
  return into
}

/**
 * The ids among `candidates` of cases that exist and that `user` may not see, by the same rule
 * as every case read and the chain (`visibleCases`): a sensitive case without clearance, a case
 * out of area.
 */
export async function hiddenCaseIds(
  db: Db,
  user: AuthUser,
  candidates: Iterable<string>,
): Promise<Set<string>> {
  const ids = [...new Set(candidates)]
  if (!ids.length) return new Set()
  const [existing, visible] = await Promise.all([
    db.selectFrom('cases').select('id').where('id', 'in', ids).execute(),
    visibleCases(db, user).select('cases.id').where('cases.id', 'in', ids).execute(),
  ])
  const seen = new Set(visible.map((r) => r.id))
  return new Set(existing.map((r) => r.id).filter((id) => !seen.has(id)))
}

/** Whether `value` is a hidden id, or a link (`{ toCaseId | fromCaseId, kind }`) to one. */
const namesHidden = (value: unknown, hidden: Set<string>) => {
  if (typeof value === 'string') return hidden.has(value)
  if (!value || typeof value !== 'object' || Array.isArray(value)) return false
  const link = value as { toCaseId?: unknown; fromCaseId?: unknown }
  return [link.toCaseId, link.fromCaseId].some((v) => typeof v === 'string' && hidden.has(v))
}

/**
 * `value` with every hidden case id taken out: an array loses the elements that are one or link
 * to one (`{ toCaseId, kind }`), any other field holding one becomes null. Pure; the input is
 * left as it was.
 */
export function redactIds<T>(value: T, hidden: Set<string>): T {
  if (!hidden.size) return value
  const walk = (v: unknown): unknown => {
    if (typeof v === 'string') return hidden.has(v) ? null : v
    if (Array.isArray(v)) return v.filter((e) => !namesHidden(e, hidden)).map(walk)
    if (v && typeof v === 'object') {
      return Object.fromEntries(Object.entries(v).map(([k, e]) => [k, walk(e)]))
    }
    return v
  }
  return walk(value) as T
}

/** A timeline without the events that only say "linked to / spawned" a hidden case, the rest redacted. */
export function redactTimeline<E extends { type: string; after: unknown }>(
  events: E[],
  hidden: Set<string>,
): E[] {
  if (!hidden.size) return events
  return events
    .filter(
      (e) => !(LINK_EVENTS.has(e.type) && [...candidateIds(e.after)].some((id) => hidden.has(id))),
    )
    .map((e) => redactIds(e, hidden))
}

/**
 * A case answer (row, live state, timeline…) as `user` may see it: no id of a case they could
 * not open appears anywhere in it (DESIGN §5: a hidden case answers like a missing one, so it
 * must not be named by the cases around it either).
 */
export async function withoutHiddenCases<T extends object>(
  db: Db,
  user: AuthUser,
  answer: T,
  timelineKey?: keyof T,
): Promise<T> {
  const hidden = await hiddenCaseIds(db, user, candidateIds(answer))
  if (!hidden.size) return answer
  if (timelineKey === undefined) return redactIds(answer, hidden)
  const events = answer[timelineKey] as { type: string; after: unknown }[]
  return {
    ...redactIds({ ...answer, [timelineKey]: [] }, hidden),
    [timelineKey]: redactTimeline(events, hidden),
  }
}
